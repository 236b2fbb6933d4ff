//! # medshare-sdk
//!
//! Everything off-chain code needs to talk to the MedShare program. The node
//! daemon (`mpc-node`), the CLI (`medshare-client`) and the tests are built
//! on it; it depends on nothing of theirs.
//!
//! | module | what |
//! | --- | --- |
//! | [`ix`] | one builder per instruction, grouped like the program's `instructions/{admin,node,user,provider}` |
//! | [`pda`] | the program's PDA derivations (re-exported) |
//! | [`chain`] | the [`Chain`](chain::Chain) trait, its RPC backend and (feature `embedded`) the in-process bank; account fetching; typed program errors |
//! | [`events`] | typed event decoding from transaction logs |
//! | [`codec`] | record contexts, stored ↔ sealed groups, contribution arguments |
//! | [`admin`] | the cluster admin's operations (create a cluster, add nodes, restart, retire) |
//! | [`keystore`] | sealed key files: secrets encrypted at rest under a passphrase |
//! | [`research`] | encrypted cohort statistics: the field catalogue, values and partial decryptions as transactions, released statistics |
//!
//! A cluster created, a builder sent, a user's identity registered and read
//! back with its event, and a refusal read as a typed error, on the embedded
//! chain (feature `embedded`):
//!
//! ```
//! # #[cfg(feature = "embedded")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use medshare_sdk::chain::{embedded::Embedded, fetch, Chain};
//! use medshare_sdk::ix;
//! use solana_sdk::signature::{Keypair, Signer};
//!
//! let bank = Embedded::start().await;
//! let chain: &dyn Chain = bank.as_ref();
//! let admin = Keypair::new();
//! chain.airdrop(&admin.pubkey(), 1_000_000_000).await.unwrap();
//! let cluster = medshare_sdk::admin::create_cluster(chain, &admin, 1, 2, 3, 300)
//!     .await
//!     .unwrap();
//! let c: medshare::state::Cluster = fetch(chain, &cluster).await.unwrap().unwrap();
//! assert_eq!((c.threshold, c.size), (2, 3));
//! // PDAs come with their bumps, as the program stored them.
//! let (_, bump) = medshare_sdk::pda::cluster_and_bump(&admin.pubkey(), 1);
//! assert_eq!(c.bump, bump);
//!
//! // A builder, sent: the admin adds a node authority.
//! let node = Keypair::new();
//! let add = ix::add_node(admin.pubkey(), cluster, node.pubkey());
//! chain.send(&[add], &[&admin]).await.unwrap();
//!
//! // A user registers an encryption key; the event says so.
//! use encrypted_ixs::keys::UserSecretKey;
//! use medshare::instructions::IdentityArgs;
//! use medshare::state::{Identity, Role};
//! let user = Keypair::new();
//! chain.airdrop(&user.pubkey(), 1_000_000_000).await.unwrap();
//! let key = UserSecretKey::generate(&mut rand_core::OsRng).public_key().edwards().unwrap();
//! let args = IdentityArgs { encryption_key: key.0, role: Role::Doctor };
//! let landed = chain.send(&[ix::register_identity(user.pubkey(), args)], &[&user]).await.unwrap();
//! let id: Identity = fetch(chain, &medshare_sdk::pda::identity(&user.pubkey()))
//!     .await
//!     .unwrap()
//!     .unwrap();
//! assert_eq!((id.encryption_key, id.role), (key.0, Role::Doctor));
//! let ev = medshare_sdk::events::events::<medshare::events::IdentityUpdated>(&landed.logs);
//! assert_eq!(ev[0].wallet, user.pubkey());
//!
//! // A refusal is typed: a stranger cannot add nodes.
//! let stranger = Keypair::new();
//! chain.airdrop(&stranger.pubkey(), 1_000_000_000).await.unwrap();
//! let err = chain
//!     .send(&[ix::add_node(stranger.pubkey(), cluster, node.pubkey())], &[&stranger])
//!     .await
//!     .unwrap_err();
//! use medshare_sdk::chain::ProgramError;
//! use medshare::error::MedshareError;
//! assert_eq!(err.program_error(), Some(ProgramError::Medshare(MedshareError::NotAdmin)));
//! # });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod admin;
pub mod chain;
pub mod codec;
pub mod events;
pub mod ix;
pub mod keystore;
pub mod research;

/// The program's PDA derivations.
pub use medshare::pda;
/// The program id.
pub use medshare::ID;
