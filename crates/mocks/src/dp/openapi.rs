//! Each mock provider's OpenAPI 3.1 description of its API, as a real provider publishes one
//! for the catalogue: its one operation, its answers as the module's documentation lists them.

use serde_json::{json, Map, Value};

use super::DpKind;

impl DpKind {
    /// Who may ask for its data, as the catalogue says it.
    pub fn eligibility(self) -> &'static str {
        match self {
            Self::Impots => "Les administrations et les collectivités territoriales, pour une démarche dont le revenu fiscal est une condition.",
            Self::Caf => "Les collectivités territoriales et leurs services (cantine, crèche, centre de loisirs) qui tarifient selon le quotient familial.",
            Self::Adresse => "Toute administration qui a besoin de l'adresse de la personne pour instruire sa demande.",
        }
    }

    /// Its rate limit, requests per minute and per service, as the catalogue says it.
    pub fn rate_limit_per_minute(self) -> u32 {
        match self {
            Self::Impots => 300,
            Self::Caf => 600,
            Self::Adresse => 1200,
        }
    }

    /// Its OpenAPI 3.1 description (JSON).
    pub fn openapi(self) -> String {
        let mut fields = Map::new();
        fields.insert("sub".into(), json!({ "type": "string", "description": "L'identifiant de la personne pour ce fournisseur (sub sectoriel)" }));
        for (name, label, _) in self.scopes() {
            fields.insert((*name).into(), json!({ "description": label }));
        }
        let error = json!({ "type": "object", "properties": { "error": { "type": "string" } } });
        let document = json!({
            "openapi": "3.1.0",
            "info": { "title": format!("API {}", self.name()), "version": "1.0" },
            "paths": {
                self.api_path(): {
                    "get": {
                        "summary": "Les données de la personne que le jeton d'accès couvre, scope par scope",
                        "parameters": [{
                            "name": "Authorization",
                            "in": "header",
                            "required": true,
                            "description": "Bearer suivi du jeton d'accès que le hub a remis au service",
                            "schema": { "type": "string" }
                        }],
                        "responses": {
                            "200": { "description": "Un champ par scope accordé", "content": { "application/json": { "schema": { "type": "object", "properties": Value::Object(fields) } } } },
                            "401": { "description": "Jeton absent, expiré, inactif ou sans scope de ce fournisseur", "content": { "application/json": { "schema": error.clone() } } },
                            "404": { "description": "La personne n'est pas dans les fichiers de ce fournisseur", "content": { "application/json": { "schema": error.clone() } } },
                            "502": { "description": "Le hub n'a pas pu vérifier le jeton", "content": { "application/json": { "schema": error } } }
                        }
                    }
                }
            }
        });
        document.to_string()
    }
}
