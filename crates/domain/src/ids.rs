//! Identifiers of the actors. Newtypes, so an SP id is never passed where an IdP id is expected.

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier as registered.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The newtype of every identifier and protocol value (`crate::values` too).
pub(crate) use identifier;

identifier!(
    /// A service provider's OAuth `client_id` at the hub.
    SpId
);
identifier!(
    /// An identity provider's id in the hub's registry (never shown to service providers).
    IdpId
);
identifier!(
    /// A data provider's id in the registry (it authenticates at checktoken with it).
    DpId
);

/// One actor of the registry, named by its id.
#[derive(Clone, Copy, Debug)]
pub enum ActorRef<'a> {
    /// A service provider.
    ServiceProvider(&'a SpId),
    /// An identity provider.
    IdentityProvider(&'a IdpId),
    /// A data provider.
    DataProvider(&'a DpId),
    /// A habilitation.
    Habilitation(&'a str),
}

impl ActorRef<'_> {
    /// Its kind, as logged and traced (`service_provider`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ServiceProvider(_) => "service_provider",
            Self::IdentityProvider(_) => "identity_provider",
            Self::DataProvider(_) => "data_provider",
            Self::Habilitation(_) => "habilitation",
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        match self {
            Self::ServiceProvider(id) => id.as_str(),
            Self::IdentityProvider(id) => id.as_str(),
            Self::DataProvider(id) => id.as_str(),
            Self::Habilitation(id) => id,
        }
    }
}
