//! The OpenID provider as Erratum talks to it: discovery, the signing keys,
//! the authorization URL and the code exchange, through the `openidconnect`
//! crate. What an identity may do is decided in `app::sso`; this module only
//! answers who the provider says signed in, once the ID token's signature,
//! issuer, audience, expiry and nonce have been checked.
//!
//! The discovery document and the key set (JWKS) are cached for
//! `cache_secs`. Providers rotate keys by publishing a new one and signing
//! with it: an ID token whose key is not in the cached set makes us read the
//! key set once more at once, then check again. ID tokens only come from the
//! token endpoint we call ourselves (never from the browser), so a stranger
//! cannot make us read the keys on demand.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IdToken, IdTokenVerifier, IssuerUrl, JsonWebKeySet, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::OidcSettings;

/// Claims beyond the standard ones (the groups claim, or an address claim
/// such as Entra ID's `upn`), kept as JSON to be read by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type ErratumIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The asymmetric algorithms accepted for ID tokens (never `none`, never
/// HMAC with the client secret).
const ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The client as discovery makes it: authorization endpoint set, token
/// and userinfo endpoints as the provider lists them.
type ProviderClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Who the provider says signed in (claims checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// The value of the configured address claim, as sent.
    pub email: Option<String>,
    /// `email_verified` when the address claim is `email`.
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

/// What must come back with the browser for the code to be accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Why a sign-in through the provider failed (before any decision on the
/// identity).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code.
    #[error("the identity provider refused the code: {0}")]
    CodeRefused(String),
    /// The ID token is missing, badly signed, expired, for another client,
    /// from another issuer, or does not carry our nonce.
    #[error("the ID token was rejected: {0}")]
    TokenRejected(String),
}

struct Cached {
    metadata: CoreProviderMetadata,
    jwks: CoreJsonWebKeySet,
    at: Instant,
}

/// The provider client, shared by every request.
pub struct Oidc {
    settings: OidcSettings,
    redirect_url: RedirectUrl,
    http: reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

impl Oidc {
    /// `redirect_url`: this server's callback, as registered at the provider.
    pub fn new(settings: OidcSettings, redirect_url: &str) -> anyhow::Result<Oidc> {
        let http = reqwest::Client::builder()
            // Following redirects would let a discovery document send us
            // anywhere (SSRF); the issuer's URLs are called as given.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs))
            // Sign-ins are rare: a pooled connection would mostly be one the
            // provider has closed meanwhile (a reset POST is not retried).
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Oidc {
            redirect_url: RedirectUrl::new(redirect_url.to_string())?,
            settings,
            http,
            cache: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    fn issuer(&self) -> Result<IssuerUrl, OidcError> {
        IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OidcError::Unavailable(format!("issuer URL: {e}")))
    }

    /// The discovery document and keys, from the cache while fresh.
    async fn provider(&self) -> Result<(CoreProviderMetadata, CoreJsonWebKeySet), OidcError> {
        let mut cache = self.cache.lock().await;
        let max_age = Duration::from_secs(self.settings.cache_secs);
        if let Some(c) = cache.as_ref().filter(|c| c.at.elapsed() < max_age) {
            return Ok((c.metadata.clone(), c.jwks.clone()));
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer()?, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("discovery: {}", chain(&e))))?;
        let jwks = metadata.jwks().clone();
        *cache = Some(Cached {
            metadata: metadata.clone(),
            jwks: jwks.clone(),
            at: Instant::now(),
        });
        Ok((metadata, jwks))
    }

    /// Read the key set again (a token named a key we do not know).
    async fn refresh_keys(&self) -> Result<CoreJsonWebKeySet, OidcError> {
        let (metadata, _) = self.provider().await?;
        let jwks: CoreJsonWebKeySet = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("keys: {}", chain(&e))))?;
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_mut() {
            c.jwks = jwks.clone();
        }
        tracing::info!(
            keys = jwks.keys().len(),
            "identity provider keys read again"
        );
        Ok(jwks)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> ProviderClient {
        let secret = Some(&self.settings.client_secret)
            .filter(|s| !s.is_empty())
            .map(|s| ClientSecret::new(s.clone()));
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            secret,
        )
        .set_redirect_uri(self.redirect_url.clone())
    }

    /// The provider's authorization URL for a new sign-in, with a fresh
    /// state, nonce and PKCE challenge (S256), and what to keep of them.
    pub async fn begin(&self) -> Result<(String, Pending), OidcError> {
        let (metadata, _) = self.provider().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client(metadata);
        let mut req = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in self
            .settings
            .scopes
            .iter()
            .filter(|s| s.as_str() != "openid")
        {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Exchange the code (with the PKCE verifier) and check the ID token:
    /// signature with the provider's keys, issuer, audience, expiry and our
    /// nonce. The caller has checked `state` already.
    pub async fn finish(&self, code: String, pending: Pending) -> Result<Identity, OidcError> {
        let (metadata, jwks) = self.provider().await?;
        let client = self.client(metadata);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::CodeRefused(chain(&e)))?;
        let raw = response
            .id_token()
            .ok_or_else(|| OidcError::TokenRejected("no ID token in the answer".into()))?
            .to_string();
        let token: ErratumIdToken = raw
            .parse()
            .map_err(|e| OidcError::TokenRejected(format!("malformed ID token: {e}")))?;
        let nonce = Nonce::new(pending.nonce);
        let identity = match self.verify(&token, jwks, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let jwks = self.refresh_keys().await?;
                self.verify(&token, jwks, &nonce)
            }
            other => other,
        };
        identity.map_err(|e| OidcError::TokenRejected(e.to_string()))
    }

    fn verify(
        &self,
        token: &ErratumIdToken,
        jwks: CoreJsonWebKeySet,
        nonce: &Nonce,
    ) -> Result<Identity, ClaimsVerificationError> {
        let verifier: IdTokenVerifier<CoreJsonWebKey> = IdTokenVerifier::new_public_client(
            ClientId::new(self.settings.client_id.clone()),
            self.issuer()
                .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?,
            jwks,
        )
        .set_allowed_algs(ALGS);
        let claims = token.claims(&verifier, nonce)?;
        let other = &claims.additional_claims().claims;
        let claim = self.settings.email_claim.as_str();
        let email = match claim {
            "email" => claims.email().map(|e| e.as_str().to_string()),
            "preferred_username" => claims.preferred_username().map(|u| u.as_str().to_string()),
            _ => other
                .get(claim)
                .and_then(|v| v.as_str())
                .map(str::to_string),
        };
        let groups = match other.get(&self.settings.groups_claim) {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str())
                .take(1000)
                .map(str::to_string)
                .collect(),
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        Ok(Identity {
            subject: claims.subject().as_str().to_string(),
            email,
            email_verified: (claim == "email")
                .then(|| claims.email_verified())
                .flatten(),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            groups,
        })
    }
}

/// An error with its causes ("Request failed: …: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
