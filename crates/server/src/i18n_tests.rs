use super::*;

fn keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (key, value) in table {
        let path = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => keys(&format!("{path}."), inner, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn both_catalogues_parse_and_have_the_same_keys() {
    let (mut fr, mut en) = (Vec::new(), Vec::new());
    keys("", &toml::from_str(FR).unwrap(), &mut fr);
    keys("", &toml::from_str(EN).unwrap(), &mut en);
    fr.sort();
    en.sort();
    assert!(fr.len() > 50);
    assert_eq!(fr, en);
}

#[test]
fn accept_language_picks_the_preferred_spoken_language() {
    assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4"), Some(Lang::Fr));
    assert_eq!(Lang::from_accept_language("fr;q=0.2, en;q=0.7"), Some(Lang::En));
    assert_eq!(Lang::from_accept_language("de, it"), None);
    assert_eq!(Lang::from_accept_language("en;q=0"), None);
}

#[test]
fn ui_locales_picks_the_first_spoken_language() {
    assert_eq!(Lang::from_ui_locales("de en-US fr"), Some(Lang::En));
    assert_eq!(Lang::from_ui_locales("es"), None);
}

#[test]
fn the_switch_only_returns_to_local_paths() {
    assert!(local_path("/interaction/abc?x=1").is_some());
    assert!(local_path("//evil.example/").is_none());
    assert!(local_path("/\\evil.example").is_none());
    assert!(local_path("https://evil.example/").is_none());
    // What a browser strips or rewrites cannot take the person elsewhere.
    for sneaky in ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", "/\\/evil.example"]
    {
        assert!(local_path(sneaky).is_none(), "{sneaky:?}");
    }
    assert_eq!(local_path("/tableau-de-bord/../interaction/x?lang=en").as_deref(), Some("/interaction/x?lang=en"));
}
