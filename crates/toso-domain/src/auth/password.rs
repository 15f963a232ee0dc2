//! Argon2id password hashing, on threads of its own at low priority and behind a bounded
//! queue, so that a storm of logins cannot starve other requests.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{AppError, AppResult};

pub use crate::input::{PASSWORD_MAX_LEN as MAX_LEN, PASSWORD_MIN_LEN as MIN_LEN};

/// OWASP's recommended argon2id settings: 19 MiB of memory, 2 passes, 1 lane. Checked when
/// the crate compiles (a const `panic!` is a compile error), so no run can meet invalid ones.
const PARAMS: Params = match Params::new(19 * 1024, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

pub fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// Verifies against `hash`, or against a fixed dummy hash when there is no user, so that the
/// time taken does not tell whether a username exists.
pub fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash_blocking("dummy password for unknown users").unwrap_or_default());
    // An account waiting for activation has no password (`activation::PENDING_HASH`, which
    // does not parse): it is checked against the dummy too, so it answers like any other.
    let real = hash.and_then(|h| PasswordHash::new(h).ok());
    let is_real = real.is_some();
    let Some(parsed) = real.or_else(|| PasswordHash::new(dummy).ok()) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && is_real
}

/// The lowest zxcvbn score accepted: 3 is "safely unguessable: moderate protection from an
/// offline slow-hash attack" (about 10^8 guesses and more).
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks a new password against the policy of NIST SP 800-63B (§ 3.1.1.2): at least 8
/// characters, at most 128 (any characters, spaces included, no composition rules), and not
/// a common, dictionary, keyboard-pattern, repeated or sequence password, nor one built from the
/// account's own names (`context`: username, full name, phone). The last check is zxcvbn's
/// estimate of the guesses needed, which knows the lists of passwords leaked in breaches.
/// Returns the message of the field error, saying why.
pub fn policy_violation(password: &str, context: &[&str]) -> Option<String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Some(format!("password must have at least {MIN_LEN} characters"));
    }
    if len > MAX_LEN {
        return Some(format!("password must have at most {MAX_LEN} characters"));
    }
    if password.trim().is_empty() {
        return Some("password is too easy to guess: it is made only of spaces".into());
    }
    let inputs: Vec<&str> = context
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MIN_SCORE {
        return None;
    }
    let mut why = String::from("password is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            why.push_str(&format!(": {warning}"));
        }
        let tips: Vec<String> = feedback
            .suggestions()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !tips.is_empty() {
            why.push_str(&format!(" ({})", tips.join(" ")));
        }
    }
    why.push_str("; a few uncommon words make a strong password");
    Some(why)
}

/// The account's own names, which a password must not be built from.
pub fn account_words<'a>(
    username: &'a str,
    full_name: Option<&'a str>,
    phone: Option<&'a str>,
) -> Vec<&'a str> {
    [Some(username), full_name, phone]
        .into_iter()
        .flatten()
        .collect()
}

/// The field error of a password that breaks the policy.
pub fn check_policy(field: &str, password: &str, context: &[&str]) -> AppResult<()> {
    match policy_violation(password, context) {
        Some(message) => Err(AppError::field(field, "too_weak", message)),
        None => Ok(()),
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Password hashing on a few threads of its own, at a lower CPU priority than everything else,
/// behind a bounded queue: a storm of logins takes what CPU the other requests leave, and
/// logins past the queue are told to come back (503 with `Retry-After`) instead of piling up.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Hasher {
    /// `threads` hashes at once; `queue` more may wait.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (jobs, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("toso-hash-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    // The lock is held while waiting for a job, so idle threads queue on it; a
                    // poisoned lock or a closed channel (the server is stopping) ends the thread.
                    while let Ok(Ok(job)) = receiver.lock().map(|r| r.recv()) {
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        Hasher { jobs }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => rx.await.map_err(AppError::internal),
            Err(TrySendError::Full(_)) => Err(AppError::Unavailable(
                "too many logins at once; retry shortly".into(),
            )),
            Err(TrySendError::Disconnected(_)) => {
                Err(AppError::internal("password hashing threads stopped"))
            }
        }
    }

    pub async fn hash(&self, password: SecretString) -> AppResult<String> {
        self.run(move || hash_blocking(password.expose_secret()))
            .await?
    }

    pub async fn verify(&self, password: SecretString, hash: Option<String>) -> AppResult<bool> {
        self.run(move || verify_blocking(password.expose_secret(), hash.as_deref()))
            .await
    }
}

/// Nice 10 for the calling thread (Linux keeps a nice value per thread): the scheduler then
/// prefers request and database threads whenever both want the CPU.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority only read or change the calling thread's own attributes.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, 10) != 0 {
            tracing::warn!("could not lower the priority of a password-hashing thread");
        }
    }
}

/// Allocator settings for a long-running server, applied once at start:
/// - Each hash allocates 19 MiB. glibc raises its mmap threshold after the first such free and
///   then keeps the memory in a per-thread arena, so every thread that ever hashed would hold
///   19 MiB for good (measured: 430 MB RSS after 50 logins). A fixed threshold makes these
///   blocks mmapped and returned to the system on free.
/// - glibc gives each thread that allocates concurrently an arena of its own (up to 8 per
///   core) and keeps what is freed in it. Under load, request bodies and report rows were
///   spread over a dozen arenas: 147 MB peak for 64 concurrent province reports, 100 MB with
///   two arenas (`bench/RESULTS.md`).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called once at start before threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(test)]
mod tests {
    use super::policy_violation;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        for weak in [
            "12345678",
            "password",
            "        ",
            "11111111",
            "qwertyuiop",
            "abcdefgh",
            "password1",
            "Password123",
            "iloveyou",
            "short",
        ] {
            let why = policy_violation(weak, &[]);
            assert!(why.is_some(), "{weak:?} accepted");
        }
        // The account's own names make a weak password.
        assert!(policy_violation("nguyenvanan2025", &["nguyenvanan2025"]).is_some());
        assert!(policy_violation(&"x".repeat(129), &[]).is_some());
    }

    #[test]
    fn strong_passwords_pass() {
        for strong in [
            "correct horse battery",
            "Mật-khẩu-mới-2025",
            "Another-pass-2026",
            "tre xanh bên lũy",
            "gio-mua-dong-bac-9",
        ] {
            assert_eq!(policy_violation(strong, &[]), None, "{strong:?}");
        }
        // The passwords the scripts give their accounts.
        for (password, user) in [
            ("demo-admin-2025", "admin"),
            ("fuzz-officer-2025", "fuzz.officer"),
            ("fuzz-leaver-2025", "fuzz.leaver"),
            ("reset by officer", "member.one"),
            ("a new long password", "changer"),
        ] {
            assert_eq!(policy_violation(password, &[user]), None, "{password:?}");
        }
    }
}
