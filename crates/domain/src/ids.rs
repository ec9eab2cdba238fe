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
