//! Object storage through a tenant scope: the SPEC §3 layout, unsafe names, prefixes, tags.

use bytes::Bytes;
use switchboard_core::{Area, ObjectKey, RelativeName};
use switchboard_store::StoreError;

use crate::harness::TestApp;

#[tokio::test]
async fn unsafe_names_are_rejected_with_a_clear_error() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let objects = app
        .storage
        .tenant(&app.scope(&acme.admin_token).await)
        .unwrap();
    for name in [
        "../x",
        "..%2Fx",
        "%2e%2e/x",
        "/etc/passwd",
        "audio\\x",
        "audio/x\0",
        "audio//x",
        ".",
        "audio/./x",
        "../acme-evil/audio/x.wav",
    ] {
        let err = objects
            .put(Area::Input, name, Bytes::from_static(b"x"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ObjectKey(_)), "{name:?}: {err:?}");
        assert!(
            matches!(
                objects.get(Area::Input, name).await,
                Err(StoreError::ObjectKey(_))
            ),
            "{name:?}"
        );
    }
}

#[tokio::test]
async fn tenant_acme_cannot_reach_acme_evil() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let evil = app.tenant("acme-evil").await;
    let acme_objects = app
        .storage
        .tenant(&app.scope(&acme.admin_token).await)
        .unwrap();
    let evil_objects = app
        .storage
        .tenant(&app.scope(&evil.admin_token).await)
        .unwrap();
    evil_objects
        .put(Area::Input, "audio/secret.wav", Bytes::from_static(b"evil"))
        .await
        .unwrap();
    acme_objects
        .put(Area::Input, "audio/call-1.wav", Bytes::from_static(b"acme"))
        .await
        .unwrap();

    assert_eq!(
        acme_objects.list(Area::Input, None).await.unwrap(),
        vec!["audio/call-1.wav"]
    );
    assert_eq!(
        acme_objects.list(Area::Input, Some("audio")).await.unwrap(),
        vec!["audio/call-1.wav"]
    );
    assert!(matches!(
        acme_objects.get(Area::Input, "audio/secret.wav").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        evil_objects
            .get(Area::Input, "audio/secret.wav")
            .await
            .unwrap(),
        Bytes::from_static(b"evil")
    );
}

#[tokio::test]
async fn objects_follow_the_spec_layout_and_local_paths_stay_under_the_root() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let objects = app
        .storage
        .tenant(&app.scope(&acme.admin_token).await)
        .unwrap();
    let key = objects
        .put(
            Area::Results,
            "final/v1.0/call-1.json",
            Bytes::from_static(b"{}"),
        )
        .await
        .unwrap();
    assert_eq!(key.to_string(), "results/acme/final/v1.0/call-1.json");
    let Some(root) = &app.storage_root else {
        return;
    };
    let root = root.canonicalize().unwrap();
    let path = app
        .storage
        .local_path(&key)
        .unwrap()
        .canonicalize()
        .unwrap();
    assert!(path.starts_with(&root), "{}", path.display());
    assert_eq!(path, root.join("results/acme/final/v1.0/call-1.json"));
    for name in ["audio/x.wav", "a/b/c/d.json", "v2.0-flat/calls/2026.csv"] {
        let key = ObjectKey::new(
            Area::Input,
            &"acme".parse().unwrap(),
            RelativeName::parse(name).unwrap(),
        );
        let resolved = app.storage.local_path(&key).unwrap();
        // The store resolves against its canonicalised root.
        assert!(resolved.starts_with(&root), "{}", resolved.display());
    }
}

#[tokio::test]
async fn every_s3_object_is_tagged_with_its_tenant() {
    let app = TestApp::new().await;
    let Some(s3) = app.s3.clone() else {
        eprintln!("skipped: SWITCHBOARD_TEST_STORAGE is not s3");
        return;
    };
    let acme = app.tenant("acme").await;
    let objects = app
        .storage
        .tenant(&app.scope(&acme.admin_token).await)
        .unwrap();
    objects
        .put(Area::Input, "audio/call-1.wav", Bytes::from_static(b"RIFF"))
        .await
        .unwrap();
    let endpoint = s3.endpoint.unwrap();
    for (bucket, key) in [
        (&s3.input_bucket, "input/acme/audio/call-1.wav"),
        (&s3.config_bucket, "config/acme/qa-config.json"),
    ] {
        let tagging = crate::harness::s3_get_tagging(&endpoint, bucket, key).await;
        assert!(
            tagging.contains("<Key>tenant-id</Key>") && tagging.contains("<Value>acme</Value>"),
            "{tagging}"
        );
    }
}

#[tokio::test]
async fn dedicated_tenants_get_their_own_bucket_and_lose_it_on_delete() {
    if crate::harness::s3_endpoint().is_none() {
        eprintln!("skipped: SWITCHBOARD_TEST_STORAGE is not s3");
        return;
    }
    let app = TestApp::builder().per_tenant_buckets().build().await;
    let s3 = app.s3.clone().unwrap();
    let acme = app.tenant("acme").await;
    let bucket = format!("{}-acme", s3.bucket_prefix);
    let objects = app
        .storage
        .tenant(&app.scope(&acme.admin_token).await)
        .unwrap();
    objects
        .put(Area::Input, "audio/call-1.wav", Bytes::from_static(b"RIFF"))
        .await
        .unwrap();
    let endpoint = s3.endpoint.clone().unwrap();
    let (_, listing) = crate::harness::s3_list(&endpoint, &bucket).await;
    assert!(listing.contains("input/acme/audio/call-1.wav"), "{listing}");
    let (_, shared) = crate::harness::s3_list(&endpoint, &s3.input_bucket).await;
    assert!(!shared.contains("acme"), "{shared}");

    let deleted = app
        .call(
            "DELETE",
            "/api/v1/platform/tenants/acme",
            crate::harness::Auth::Bearer(&app.platform_token),
            None,
        )
        .await;
    assert_eq!(deleted.body["objects"], 3, "{}", deleted.text);
    let (gone, _) = crate::harness::s3_list(&endpoint, &bucket).await;
    assert_eq!(gone, 404);
}
