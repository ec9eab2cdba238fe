//! The person's own rules on the accounts (identity providers) that may sign in as them. They
//! may block any account but the one they are using (FranceConnect's rule too), and at least
//! one must stay allowed: nobody can lock themselves out, not even out of their dashboard.

use crate::ids::IdpId;

/// What the person decided for accounts added to the hub after their choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewAccounts {
    /// They may sign in as the person (the default).
    #[default]
    Allowed,
    /// They are blocked until the person allows them.
    Blocked,
}

/// A person's choices on the accounts that may sign in as them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Preferences {
    /// The accounts they blocked.
    pub blocked: Vec<IdpId>,
    /// The accounts offered when they chose: any other is "added later".
    #[serde(default)]
    pub known: Vec<IdpId>,
    /// What holds for accounts added later.
    #[serde(default)]
    pub new_accounts: NewAccounts,
}

impl Preferences {
    /// Whether `idp` may not sign in as the person.
    pub fn blocks(&self, idp: &IdpId) -> bool {
        self.blocked.contains(idp) || (self.new_accounts == NewAccounts::Blocked && !self.known.contains(idp))
    }
}

/// Why a change of the blocked accounts is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRefusal {
    /// The account of the current session cannot be blocked.
    CurrentAccount,
    /// Every account would be blocked.
    NoAccountLeft,
}

impl BlockRefusal {
    /// The refusal's name in traces and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CurrentAccount => "current_account",
            Self::NoAccountLeft => "no_account_left",
        }
    }
}

/// The accounts to block among `offered` (the enabled ones), as `asked`, checked: never
/// `current`, the account of the session making the change, and never every account.
pub fn accounts_to_block(
    offered: &[IdpId],
    asked: &[IdpId],
    current: Option<&IdpId>,
) -> Result<Vec<IdpId>, BlockRefusal> {
    let blocked: Vec<IdpId> = offered.iter().filter(|id| asked.contains(id)).cloned().collect();
    if current.is_some_and(|current| blocked.contains(current)) {
        return Err(BlockRefusal::CurrentAccount);
    }
    if !offered.is_empty() && blocked.len() == offered.len() {
        return Err(BlockRefusal::NoAccountLeft);
    }
    Ok(blocked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<IdpId> {
        names.iter().map(|n| IdpId::new(*n)).collect()
    }

    #[test]
    fn accounts_added_later_follow_the_persons_choice() {
        let mut preferences =
            Preferences { blocked: ids(&["ameli"]), known: ids(&["impots", "ameli"]), ..Default::default() };
        assert!(preferences.blocks(&IdpId::new("ameli")) && !preferences.blocks(&IdpId::new("impots")));
        assert!(!preferences.blocks(&IdpId::new("nouveau")), "allowed by default");
        preferences.new_accounts = NewAccounts::Blocked;
        assert!(preferences.blocks(&IdpId::new("nouveau")) && !preferences.blocks(&IdpId::new("impots")));
    }

    #[test]
    fn anything_but_the_current_account_and_the_last_one_can_be_blocked() {
        let offered = ids(&["impots", "ameli", "numerique"]);
        let current = IdpId::new("impots");
        assert_eq!(accounts_to_block(&offered, &ids(&["ameli"]), Some(&current)), Ok(ids(&["ameli"])));
        assert_eq!(accounts_to_block(&offered, &ids(&["ameli", "inconnu"]), Some(&current)), Ok(ids(&["ameli"])));
        assert_eq!(accounts_to_block(&offered, &ids(&["impots"]), Some(&current)), Err(BlockRefusal::CurrentAccount));
        assert_eq!(accounts_to_block(&offered, &offered, None), Err(BlockRefusal::NoAccountLeft));
        assert_eq!(accounts_to_block(&offered, &[], Some(&current)), Ok(vec![]));
    }
}
