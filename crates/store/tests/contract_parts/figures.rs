//! The SQL contract's part about the catalogue's figures: the database counts them as the
//! domain's reference does, on the same records.

use relais_domain::catalogue::{figures, Availability, Figures};
use relais_domain::trace::{TraceEvent, TraceKind};
use relais_domain::UnixTime;
use relais_store::{SqlStore, TraceStore};

fn checktoken(at: u64, dp: &str, person: Option<&str>, sp: &str, outcome: &str) -> TraceEvent {
    TraceEvent {
        at: UnixTime(at),
        kind: TraceKind::Checktoken,
        person: person.map(str::to_owned),
        sub: None,
        sp: Some(sp.into()),
        idp: None,
        dp: Some(dp.into()),
        scopes: vec!["quotient_familial".into()],
        outcome: outcome.into(),
        organisation: None,
        habilitation: None,
        author: None,
        reference: None,
    }
}

/// Checktoken answers appended on one node, counted by the other from `since` on.
pub async fn counted_as_the_domain_counts(sql: &SqlStore, other_node: &SqlStore) {
    let events = [
        checktoken(1_000, "caf-figures", Some("p1"), "mairie", "active"), // before the period
        checktoken(2_000, "caf-figures", Some("p1"), "mairie", "active"),
        checktoken(2_001, "caf-figures", Some("p1"), "mairie", "active"),
        checktoken(2_002, "caf-figures", Some("p1"), "creche", "active"),
        checktoken(2_003, "caf-figures", Some("p2"), "mairie", "active"),
        checktoken(2_004, "caf-figures", Some("p3"), "mairie", "inactive"),
        checktoken(2_005, "caf-figures", None, "mairie", "active"),
        checktoken(2_006, "impots-figures", Some("p1"), "mairie", "active"),
    ];
    for event in &events {
        sql.append(event).await.unwrap();
    }
    let since = UnixTime(2_000);
    let counted = other_node.transfer_figures(since).await.unwrap();
    let all = other_node.all().await.unwrap();
    assert_eq!(counted, figures(all.iter().map(|r| &r.event), since));
    assert_eq!(counted["caf-figures"], Figures { transfers: 5, documents_avoided: 3 });
    assert_eq!(counted["impots-figures"], Figures { transfers: 1, documents_avoided: 1 });
    assert!(other_node.transfer_figures(UnixTime(3_000)).await.unwrap().is_empty());

    // The providers' checks: one a minute whichever node makes it first, counted from a minute on.
    sql.record_check("caf-figures", 100, true).await.unwrap();
    other_node.record_check("caf-figures", 100, false).await.unwrap(); // the same minute: the first kept
    other_node.record_check("caf-figures", 101, false).await.unwrap();
    sql.record_check("caf-figures", 50, false).await.unwrap(); // before the period
    sql.record_check("impots-figures", 101, true).await.unwrap();
    let checked = other_node.availability(100).await.unwrap();
    assert_eq!(checked["caf-figures"], Availability { checks: 2, answered: 1 });
    assert_eq!(checked["impots-figures"], Availability { checks: 1, answered: 1 });
    assert!(sql.availability(102).await.unwrap().is_empty());
}
