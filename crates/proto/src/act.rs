//! RFC 8693 §4.1: the actor claim (`act`) of a delegated token, and `may_act` (§4.4). Shared by
//! the authorization server (which writes it), introspection answers and resource servers.
use serde::{Deserialize, Serialize};

/// RFC 8693 §4.1: "The act (actor) claim provides a means within a JWT to express that
/// delegation has occurred and identify the acting party to whom authority has been delegated.
/// … A chain of delegation can be expressed by nesting one act claim within another. The
/// outermost act claim represents the current actor while nested act claims represent prior
/// actors."
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Act {
    /// The acting party: here, the `client_id` of the client that exchanged the token.
    pub sub: String,
    /// The prior actor, when the subject token was itself delegated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Act>>,
}

impl Act {
    /// `actor` acting on a token that already carried `prior` (nested, RFC 8693 §4.1).
    pub fn delegate(actor: &str, prior: Option<Act>) -> Self {
        Self {
            sub: actor.to_string(),
            act: prior.map(Box::new),
        }
    }

    /// The actors, current first.
    pub fn chain(&self) -> Vec<&str> {
        let mut out = vec![self.sub.as_str()];
        let mut next = self.act.as_deref();
        while let Some(a) = next {
            out.push(a.sub.as_str());
            next = a.act.as_deref();
        }
        out
    }
}

/// RFC 8693 §4.4: "The may_act claim makes a statement that one party is authorized to become
/// the actor and act on behalf of another party." Only `sub` is compared here.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MayAct {
    /// The party authorized to act: an exchanging client's `client_id`.
    pub sub: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_keeps_the_current_actor_outermost() {
        let agent = Act::delegate("agent", None);
        let sub_agent = Act::delegate("sub-agent", Some(agent));
        assert_eq!(sub_agent.chain(), ["sub-agent", "agent"]);
        assert_eq!(
            serde_json::to_value(&sub_agent).unwrap(),
            serde_json::json!({"sub": "sub-agent", "act": {"sub": "agent"}})
        );
        let back: Act = serde_json::from_str(r#"{"sub":"a","act":{"sub":"b"}}"#).unwrap();
        assert_eq!(back.chain(), ["a", "b"]);
    }
}
