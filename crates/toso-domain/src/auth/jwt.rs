//! Access tokens: short-lived HS256 JWTs with a `kid` header so keys can rotate.

use std::collections::HashMap;

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;
use crate::ids::{SessionId, TeamId, UserId};

pub const ISSUER: &str = "toso";
pub const AUDIENCE: &str = "toso-api";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: UserId,
    /// The login session; revoking it ends the token's life before `exp`.
    pub sid: SessionId,
    pub role: String,
    pub unit: Option<String>,
    pub team: Option<TeamId>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    pub access_ttl_secs: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    UnknownKey,
    Expired,
    Invalid,
}

impl JwtKeys {
    pub fn new(settings: &JwtSettings) -> Self {
        let mut decoding = HashMap::new();
        for (kid, secret) in &settings.previous {
            decoding.insert(
                kid.clone(),
                DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            );
        }
        let secret = settings.secret.expose_secret().as_bytes();
        decoding.insert(settings.kid.clone(), DecodingKey::from_secret(secret));

        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss", "aud"]);

        JwtKeys {
            kid: settings.kid.clone(),
            encoding: EncodingKey::from_secret(secret),
            decoding,
            validation,
            access_ttl_secs: i64::try_from(settings.access_ttl.as_secs()).unwrap_or(900),
        }
    }

    pub fn issue(
        &self,
        user_id: UserId,
        session_id: SessionId,
        role: &str,
        unit: Option<String>,
        team: Option<TeamId>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            role: role.to_string(),
            unit,
            team,
            iat: now,
            nbf: now,
            exp: now + self.access_ttl_secs,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        encode(&header, &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}
