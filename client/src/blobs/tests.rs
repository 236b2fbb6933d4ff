//! Unit tests of `blobs`.

use super::*;

#[tokio::test]
async fn test_local_round_trip_debug_redacts_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().join("b").to_str().unwrap()).unwrap();
    let record = Pubkey::new_unique();
    let r = store.put_bytes(&record, b"hello blob").await.unwrap();
    assert!(store.exists(&record, &r).await.unwrap());
    assert_eq!(r.size, 10);
    assert!(r.locator.starts_with("file://"));
    assert!(r
        .locator
        .ends_with(&format!("/records/{record}/{}", r.sha256)));
    let dbg = format!("{r:?}");
    let json = serde_json::to_value(&r).unwrap();
    let key = json["key"].as_str().unwrap();
    assert_eq!(key.len(), 64);
    assert!(!dbg.contains(key) && dbg.contains("<redacted>"));
    let mut bad = json.clone();
    bad["sha256"] = serde_json::json!("é".repeat(32));
    assert_eq!(
        serde_json::from_value::<BlobRef>(bad)
            .unwrap_err()
            .to_string(),
        "blob hash is not 64 lowercase hex digits"
    );
    let back: BlobRef = serde_json::from_value(json).unwrap();
    assert_eq!(
        &*store.get_bytes(&record, &back, 100).await.unwrap(),
        b"hello blob"
    );
    assert!(matches!(
        store.get_bytes(&record, &back, 9).await.unwrap_err(),
        ClientError::BlobCorrupt { .. }
    ));
    // A reference that claims a longer blob than its size seals to is
    // refused before anything is fetched, naming the lengths.
    let mut inflated = back.clone();
    inflated.blob_len = 1 << 40;
    match store.get_bytes(&record, &inflated, 100).await.unwrap_err() {
        ClientError::BlobCorrupt { detail, .. } => assert_eq!(
            detail,
            format!(
                "the record commits to {} blob bytes, which 10 plaintext bytes in chunks of {} never seal to",
                1u64 << 40,
                back.chunk_size
            )
        ),
        other => panic!("{other:?}"),
    }
    // Another record's blob under this record's name is not looked for.
    let other = Pubkey::new_unique();
    assert!(matches!(
        store.get_bytes(&other, &back, 100).await.unwrap_err(),
        ClientError::BlobMissing { .. }
    ));
    assert_eq!(store.list(&record).await.unwrap().len(), 1);
    // A malformed option is refused without echoing it (it may be a secret).
    let err = parse_store_options(&["SECRETKEY123".into()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "blob store a --store-option is not key=value (e.g. aws_endpoint=http://127.0.0.1:9000)"
    );
    assert_eq!(
        parse_store_options(&["aws_region=eu-west-1".into()]).unwrap(),
        vec![("aws_region".to_string(), "eu-west-1".to_string())]
    );
    assert_eq!(
        store.delete_except(&record, &HashSet::new()).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .get_bytes(&record, &back, 100)
            .await
            .unwrap_err()
            .to_string(),
        format!(
            "blob {} is missing from the store {}",
            back.short(),
            store.url()
        )
    );
}
