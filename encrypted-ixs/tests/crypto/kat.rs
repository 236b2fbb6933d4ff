//! Known-answer tests: RFC 7748 (X25519) through our key types, RFC 8439
//! (ChaCha20-Poly1305) through our AEAD path.

use encrypted_ixs::capsule::DataKey;
use encrypted_ixs::keys::{TransportPublic, TransportSecret, UserSecretKey};
use encrypted_ixs::record::{decrypt, encrypt};
use encrypted_ixs::Error;

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// RFC 7748 §6.1.
const ALICE_SK: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PK: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SK: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PK: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

#[test]
fn test_rfc7748_public_keys() {
    assert_eq!(
        UserSecretKey::from_bytes(h32(ALICE_SK)).public_key().0,
        h32(ALICE_PK)
    );
    assert_eq!(
        TransportSecret::from_bytes(h32(BOB_SK)).public_key().0,
        h32(BOB_PK)
    );
}

#[test]
fn test_rfc7748_diffie_hellman() {
    let alice = TransportSecret::from_bytes(h32(ALICE_SK));
    let bob = TransportSecret::from_bytes(h32(BOB_SK));
    assert_eq!(
        *alice.diffie_hellman(&TransportPublic(h32(BOB_PK))).unwrap(),
        h32(SHARED)
    );
    assert_eq!(
        *bob.diffie_hellman(&TransportPublic(h32(ALICE_PK))).unwrap(),
        h32(SHARED)
    );
    // A low-order peer key gives an all-zero secret and is refused.
    assert_eq!(
        alice
            .diffie_hellman(&TransportPublic([0u8; 32]))
            .unwrap_err(),
        Error::InvalidPublicKey
    );
}

#[test]
fn test_rfc7748_keys_have_an_edwards_form_that_roundtrips() {
    for pk in [ALICE_PK, BOB_PK] {
        let u = encrypted_ixs::keys::UserPublicKey(h32(pk));
        let a = u.edwards().unwrap();
        assert!(encrypted_ixs::keys::is_xeddsa_form(&a));
        assert_eq!(
            encrypted_ixs::keys::UserPublicKey::from_edwards(&a).unwrap(),
            u
        );
    }
}

/// RFC 8439 §2.8.2.
#[test]
fn test_rfc8439_aead() {
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = 0x80 + i as u8;
    }
    let nonce: [u8; 12] = hex::decode("070000004041424344454647")
        .unwrap()
        .try_into()
        .unwrap();
    let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let expected = hex::decode(concat!(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6",
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36",
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc",
        "3ff4def08e4b7a9de576d26586cec64b6116",
        "1ae10b594f09e26a7e902ecbd0600691"
    ))
    .unwrap();
    let k = DataKey::from_bytes(key);
    let opened = decrypt(&k, &aad, &nonce, &expected).unwrap();
    assert_eq!(&opened[..], &plaintext[..]);
    // And our encrypt gives the same bytes for that nonce.
    struct FixedNonce([u8; 12]);
    impl rand_core::RngCore for FixedNonce {
        fn next_u32(&mut self) -> u32 {
            unreachable!()
        }
        fn next_u64(&mut self) -> u64 {
            unreachable!()
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.copy_from_slice(&self.0)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for FixedNonce {}
    let (n, ct) = encrypt(&mut FixedNonce(nonce), &k, &aad, plaintext);
    assert_eq!(n, nonce);
    assert_eq!(ct, expected);
}
