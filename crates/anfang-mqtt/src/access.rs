//! The injected access policy of the embedded broker: who may connect, publish and subscribe.
//!
//! The broker knows no device registry; the platform hands it three callbacks. Authentication
//! is async because it looks a secret up (and hashing it is slow); the topic rules are plain
//! functions because they run on every PUBLISH and SUBSCRIBE and must not wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::topic;

/// The future an authentication callback returns.
pub type AuthFuture = Pin<Box<dyn Future<Output = bool> + Send + 'static>>;

type AuthFn = dyn Fn(String, String, String) -> AuthFuture + Send + Sync;
type RuleFn = dyn Fn(&str, &str) -> bool + Send + Sync;

/// Callbacks that decide every CONNECT, PUBLISH and SUBSCRIBE of the embedded broker.
///
/// Cloning is cheap: the callbacks are shared.
#[derive(Clone)]
pub struct Access {
    authenticate: Arc<AuthFn>,
    may_publish: Arc<RuleFn>,
    may_subscribe: Arc<RuleFn>,
}

impl Access {
    /// An access policy with the given authentication callback and the platform's topic rules
    /// ([`topic::device_may_publish`] and [`topic::device_may_subscribe`]).
    ///
    /// The callback receives `(client_id, username, password)`; the username and password are
    /// empty when the client sent none. It returns whether the client may connect.
    pub fn new<A, F>(authenticate: A) -> Access
    where
        A: Fn(String, String, String) -> F + Send + Sync + 'static,
        F: Future<Output = bool> + Send + 'static,
    {
        Access {
            authenticate: Arc::new(move |client_id, username, password| {
                Box::pin(authenticate(client_id, username, password)) as AuthFuture
            }),
            may_publish: Arc::new(topic::device_may_publish),
            may_subscribe: Arc::new(topic::device_may_subscribe),
        }
    }

    /// Replaces the publish rule `(username, topic) -> allowed`.
    pub fn with_publish_rule(mut self, rule: impl Fn(&str, &str) -> bool + Send + Sync + 'static) -> Access {
        self.may_publish = Arc::new(rule);
        self
    }

    /// Replaces the subscribe rule `(username, filter) -> allowed`.
    pub fn with_subscribe_rule(
        mut self,
        rule: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
    ) -> Access {
        self.may_subscribe = Arc::new(rule);
        self
    }

    pub(crate) fn authenticate(&self, client_id: String, username: String, password: String) -> AuthFuture {
        (self.authenticate)(client_id, username, password)
    }

    pub(crate) fn may_publish(&self, username: &str, topic: &str) -> bool {
        (self.may_publish)(username, topic)
    }

    pub(crate) fn may_subscribe(&self, username: &str, filter: &str) -> bool {
        (self.may_subscribe)(username, filter)
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access").finish_non_exhaustive()
    }
}
