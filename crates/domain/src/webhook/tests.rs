use super::*;

/// The example of the Standard Webhooks specification (its reference libraries' tests).
#[test]
fn the_signature_of_the_specification_example_matches() {
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
    let body = br#"{"test": 2432232314}"#;
    let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_eq!(verify(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, &signature, 1_614_265_330), Ok(()));
}

#[test]
fn a_changed_body_an_old_timestamp_or_another_secret_do_not_verify() {
    let secret = WebhookSecret::from_random([7; 32]);
    let other = WebhookSecret::from_random([8; 32]);
    let signature = sign(&secret, "msg_1", 1_000_000, b"{}");
    assert_eq!(verify(&secret, "msg_1", "1000000", b"{ }", &signature, 1_000_000), Err(SignatureError::Mismatch));
    assert_eq!(verify(&other, "msg_1", "1000000", b"{}", &signature, 1_000_000), Err(SignatureError::Mismatch));
    assert_eq!(verify(&secret, "msg_2", "1000000", b"{}", &signature, 1_000_000), Err(SignatureError::Mismatch));
    assert_eq!(verify(&secret, "msg_1", "1000000", b"{}", &signature, 1_000_301), Err(SignatureError::Expired));
    assert_eq!(verify(&secret, "msg_1", "soon", b"{}", &signature, 1_000_000), Err(SignatureError::BadTimestamp));
    // Several signatures (a secret being rotated): one matching is enough.
    let both = format!("v1,AAAA {signature}");
    assert_eq!(verify(&secret, "msg_1", "1000000", b"{}", &both, 1_000_000), Ok(()));
}

#[test]
fn a_secret_is_whsec_and_base64_of_24_to_64_bytes() {
    assert_eq!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Err(SignatureError::BadSecret));
    assert_eq!(WebhookSecret::parse("whsec_c2hvcnQ="), Err(SignatureError::BadSecret));
    assert_eq!(WebhookSecret::parse("whsec_!!"), Err(SignatureError::BadSecret));
    let secret = WebhookSecret::from_random([1; 32]);
    assert_eq!(WebhookSecret::parse(&secret.expose()), Ok(secret.clone()));
    assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
}

#[test]
fn retries_back_off_exponentially_with_jitter_and_stop_after_a_day() {
    let rule = RetryRule::default();
    assert_eq!(rule.after_failure(1, 0, 0, 0.0), Attempt::RetryAt(5));
    assert_eq!(rule.after_failure(2, 0, 5, 0.0), Attempt::RetryAt(15));
    assert_eq!(rule.after_failure(3, 0, 15, 0.999), Attempt::RetryAt(15 + 11));
    assert_eq!(rule.after_failure(30, 0, 1_000, 0.0), Attempt::RetryAt(4_600));
    // Never past the day, and given up once it is over.
    assert_eq!(rule.after_failure(30, 0, 86_000, 0.0), Attempt::RetryAt(86_400));
    assert_eq!(rule.after_failure(31, 0, 86_400, 0.0), Attempt::GiveUp);
    // The delays of a message failing from the start add up past ten minutes by the 8th attempt:
    // a receiver down ten minutes is reached again within one delay of coming back.
    let (mut now, mut attempts) = (0, 0);
    while now < 600 {
        attempts += 1;
        let Attempt::RetryAt(next) = rule.after_failure(attempts, 0, now, 0.5) else { panic!("given up") };
        now = next;
    }
    assert!(now < 600 + 640, "{now}");
}

#[test]
fn subscriptions_are_checked() {
    let subscription = Subscription {
        id: "caf-adresses".into(),
        service: SpId::new("caf"),
        events: vec![EventKind::AddressChanged],
        url: url::Url::parse("https://caf.example/webhooks").expect("url"),
        secret: WebhookSecret::from_random([2; 32]),
        description: String::new(),
    };
    assert_eq!(subscription.check(), Ok(()));
    let local = Subscription { url: url::Url::parse("http://127.0.0.1:9000/w").expect("url"), ..subscription.clone() };
    assert_eq!(local.check(), Ok(()));
    let plain = Subscription { url: url::Url::parse("http://caf.example/w").expect("url"), ..subscription.clone() };
    assert_eq!(plain.check(), Err(SubscriptionError::BadUrl));
    let none = Subscription { events: vec![], ..subscription.clone() };
    assert_eq!(none.check(), Err(SubscriptionError::NoEvent));
    let bad = Subscription { id: "CAF adresses".into(), ..subscription };
    assert_eq!(bad.check(), Err(SubscriptionError::BadId));
    assert_eq!(EventKind::parse("address.changed"), Some(EventKind::AddressChanged));
    assert_eq!(serde_json::to_value(EventKind::DossierStateChanged).expect("json"), "dossier.state_changed");
}

#[test]
fn the_payload_is_type_timestamp_and_data() {
    let body = payload(EventKind::AddressChanged, crate::UnixTime(1_764_700_000), serde_json::json!({"sub": "s"}));
    assert_eq!(body["type"], "address.changed");
    assert_eq!(body["timestamp"], "2025-12-02T18:26:40Z");
    assert_eq!(body["data"]["sub"], "s");
    assert_eq!(message_id([0xab; 16]), format!("msg_{}", "ab".repeat(16)));
}
