//! The default hasher: argon2id, with legacy bcrypt verification.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

use super::{PasswordError, PasswordHasher, Verification};
use crate::error::BoxError;

thread_local! {
    /// The argon2 working memory of this thread, reused from one operation to the next: a
    /// thread that hashes holds at most the largest `m_cost` it has used, instead of
    /// allocating (and handing to the allocator's per-thread arenas) that much per operation.
    /// [`release_thread_memory`] gives it back.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Frees this thread's argon2 working memory (the hashing threads call it when idle). It goes
/// back to the kernel, not only to the allocator: see [`super::working_memory`].
pub(crate) fn release_thread_memory() {
    MEMORY.with(|memory| *memory.borrow_mut() = Vec::new());
}

/// How much argon2 working memory this thread holds (has written), in bytes.
#[cfg(test)]
pub(crate) fn thread_memory_bytes() -> usize {
    MEMORY.with(|memory| memory.borrow().len() * Block::SIZE)
}

/// `argon2.hash_password_into` with this thread's reused working memory.
fn hash_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), BoxError> {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = params.block_count();
        super::working_memory::ensure_blocks(&mut memory, blocks)?;
        Ok(argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])?)
    })
}

/// argon2id hashing with configurable parameters; verifies any argon2 PHC string and legacy
/// bcrypt hashes.
///
/// The default is OWASP's recommendation for argon2id: 19 MiB of memory (`m = 19456`),
/// 2 iterations, 1 lane, a 16-byte salt and a 32-byte output:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// A stored hash *needs rehash* when it is bcrypt, another argon2 variant or version, or
/// argon2id with parameters different from this hasher's (FastAPI Users' pwdlib default,
/// `m=65536,t=3,p=4`, is therefore upgraded on the next login).
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self {
            params: Params::DEFAULT,
        }
    }
}

/// Salt length in bytes (as pwdlib and the argon2 reference implementation use).
const SALT_LEN: usize = 16;

impl Argon2Hasher {
    /// OWASP parameters: `m = 19456` KiB, `t = 2`, `p = 1`.
    pub const OWASP_M_COST: u32 = 19 * 1024;
    /// OWASP iteration count.
    pub const OWASP_T_COST: u32 = 2;
    /// OWASP lane count.
    pub const OWASP_P_COST: u32 = 1;

    /// A hasher with memory cost `m_cost` (KiB), `t_cost` iterations and `p_cost` lanes.
    ///
    /// Fails when argon2 rejects the combination (for example `m_cost < 8 * p_cost`).
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, PasswordError> {
        let params = Params::new(m_cost, t_cost, p_cost, Some(Params::DEFAULT_OUTPUT_LEN))
            .map_err(|e| PasswordError::Hash(Box::new(e)))?;
        Ok(Self { params })
    }

    /// The memory cost in KiB.
    pub fn m_cost(&self) -> u32 {
        self.params.m_cost()
    }

    /// The number of iterations.
    pub fn t_cost(&self) -> u32 {
        self.params.t_cost()
    }

    /// The number of lanes.
    pub fn p_cost(&self) -> u32 {
        self.params.p_cost()
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn verify_phc(&self, password: &str, hash: &str) -> Verification {
        let parsed = match PasswordHash::new(hash) {
            Ok(parsed) => parsed,
            Err(err) => {
                tracing::warn!(error = %err, "stored password hash is not a valid PHC string");
                return Verification::Invalid;
            }
        };
        let algorithm = match Algorithm::try_from(parsed.algorithm) {
            Ok(algorithm) => algorithm,
            Err(_) => {
                tracing::warn!(
                    algorithm = %parsed.algorithm,
                    "stored password hash uses an unsupported algorithm"
                );
                return Verification::Invalid;
            }
        };
        let params = match Params::try_from(&parsed) {
            Ok(params) => params,
            Err(err) => {
                tracing::warn!(error = %err, "stored argon2 hash has invalid parameters");
                return Verification::Invalid;
            }
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(error = %err, "stored argon2 hash has an invalid version");
                return Verification::Invalid;
            }
        };
        let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
            tracing::warn!("stored argon2 hash has no salt or no output");
            return Verification::Invalid;
        };
        let mut salt_bytes = [0_u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            tracing::warn!("stored argon2 hash has an invalid salt");
            return Verification::Invalid;
        };
        let mut computed = [0_u8; Output::MAX_LENGTH];
        let computed = &mut computed[..expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        if let Err(err) = hash_into(&argon2, &params, password.as_bytes(), salt_bytes, computed) {
            tracing::warn!(error = %err, "stored argon2 hash could not be verified");
            return Verification::Invalid;
        }
        if !bool::from(computed.ct_eq(expected.as_bytes())) {
            return Verification::Invalid;
        }
        let current = algorithm == Algorithm::Argon2id
            && parsed.version == Some(Version::V0x13.into())
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost()
            && parsed.hash.map(|h| h.len()) == Some(Params::DEFAULT_OUTPUT_LEN);
        if current {
            Verification::Valid
        } else {
            Verification::ValidNeedsRehash
        }
    }
}

fn verify_bcrypt(password: &str, hash: &str) -> Verification {
    match bcrypt::verify(password, hash) {
        // A bcrypt hash is always upgraded to argon2id.
        Ok(true) => Verification::ValidNeedsRehash,
        Ok(false) => Verification::Invalid,
        Err(err) => {
            tracing::warn!(error = %err, "stored bcrypt hash could not be verified");
            Verification::Invalid
        }
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let mut salt = [0_u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        let encoded =
            SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(Box::new(e)))?;
        let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
        hash_into(
            &self.argon2(),
            &self.params,
            password.as_bytes(),
            &salt,
            &mut out,
        )
        .map_err(PasswordError::Hash)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|e| PasswordError::Hash(Box::new(e)))?,
            salt: Some(encoded.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| PasswordError::Hash(Box::new(e)))?),
        };
        Ok(hash.to_string())
    }

    fn verify(&self, password: &str, hash: &str) -> Verification {
        if hash.starts_with("$argon2") {
            self.verify_phc(password, hash)
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            verify_bcrypt(password, hash)
        } else {
            tracing::warn!(
                scheme = hash.split('$').nth(1).unwrap_or(""),
                "stored password hash has an unknown format"
            );
            Verification::Invalid
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use argon2::password_hash::PasswordHasher as _;

    use super::*;

    #[test]
    fn working_memory_is_reused_and_released() {
        let hasher = Argon2Hasher::new(1024, 1, 1).unwrap();
        release_thread_memory();
        let hash = hasher.hash("pw").unwrap();
        assert_eq!(thread_memory_bytes(), 1024 * 1024, "m_cost KiB, kept");
        assert_eq!(hasher.verify("pw", &hash), Verification::Valid);
        assert_eq!(hasher.verify("other", &hash), Verification::Invalid);
        assert_eq!(thread_memory_bytes(), 1024 * 1024, "reused, not grown");
        // A hash of larger parameters grows it to that size, no more.
        let larger = Argon2Hasher::new(2048, 1, 1).unwrap().hash("pw").unwrap();
        assert_eq!(hasher.verify("pw", &larger), Verification::ValidNeedsRehash);
        assert_eq!(thread_memory_bytes(), 2048 * 1024);
        release_thread_memory();
        assert_eq!(thread_memory_bytes(), 0);
    }

    /// pwdlib 0.3 (FastAPI Users' default) hash of "correct horse battery staple".
    const PWDLIB_ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$NZ0X5lA9LOMR9GOZ5jEmIQ$ZVdXexxFE7IElkKApfi//afmLqmESBg8uI3kQL0vd+Q";
    /// pwdlib bcrypt hash (rounds 12) of "Tr0ub4dor&3 legacy".
    const PWDLIB_BCRYPT: &str = "$2b$12$K9WRdCjf0BNCF9SkWHidJup6q1n12caCpjUAarDVD0bkmz1JmAfEC";

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(1024, 1, 1).unwrap()
    }

    #[test]
    fn default_is_owasp_argon2id() {
        let h = Argon2Hasher::default();
        assert_eq!((h.m_cost(), h.t_cost(), h.p_cost()), (19456, 2, 1));
        let hash = h.hash("pw").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(h.verify("pw", &hash), Verification::Valid);
        assert_eq!(h.verify("pW", &hash), Verification::Invalid);
    }

    #[test]
    fn salts_differ() {
        let h = cheap();
        assert_ne!(h.hash("same").unwrap(), h.hash("same").unwrap());
    }

    #[test]
    fn pwdlib_argon2_verifies_and_needs_rehash() {
        let h = Argon2Hasher::default();
        assert_eq!(
            h.verify("correct horse battery staple", PWDLIB_ARGON2),
            Verification::ValidNeedsRehash
        );
        // (Each verify at m=64 MiB, t=3 is slow in debug builds; the wrong-password path is
        // covered by the cheaper hashes below.)
    }

    #[test]
    fn bcrypt_variants_verify_and_need_rehash() {
        let h = cheap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = PWDLIB_BCRYPT.replacen("$2b$", prefix, 1);
            assert_eq!(
                h.verify("Tr0ub4dor&3 legacy", &hash),
                Verification::ValidNeedsRehash,
                "{prefix}"
            );
            assert_eq!(h.verify("Tr0ub4dor&3", &hash), Verification::Invalid);
        }
    }

    #[test]
    fn other_argon2_variants_and_params_need_rehash() {
        let h = cheap();
        let other = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(&[7; 16]).unwrap();
        let hash = other.hash_password(b"pw", &salt).unwrap().to_string();
        assert_eq!(h.verify("pw", &hash), Verification::ValidNeedsRehash);
        let stronger = Argon2Hasher::new(2048, 1, 1).unwrap().hash("pw").unwrap();
        assert_eq!(h.verify("pw", &stronger), Verification::ValidNeedsRehash);
    }

    #[test]
    fn unknown_and_corrupt_hashes_fail_without_panicking() {
        let h = cheap();
        let good = h.hash("pw").unwrap();
        let corrupt = [
            "",
            "plain",
            "$",
            "$argon2id$",
            "$argon2id$v=19$m=1024,t=1,p=1$",
            "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$v=99$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
            "$argon2xx$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
            "$2b$",
            "$2b$99$K9WRdCjf0BNCF9SkWHidJup6q1n12caCpjUAarDVD0bkmz1JmAfEC",
            "$2b$12$short",
            "$2x$12$K9WRdCjf0BNCF9SkWHidJup6q1n12caCpjUAarDVD0bkmz1JmAfEC",
            "$pbkdf2-sha256$29000$c2FsdA$aGFzaA",
            "$1$abc$def",
            "💥",
            &good[..good.len() - 3],
            &good.replace("argon2id", "argon2i"),
        ];
        for hash in corrupt {
            assert_eq!(h.verify("pw", hash), Verification::Invalid, "{hash:?}");
        }
    }

    /// A stored hash asking for more memory than the machine has (m = 4 TiB here) is a
    /// failed verification, not an abort of the process.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_hash_asking_for_impossible_memory_fails_without_aborting() {
        let h = cheap();
        let good = h.hash("pw").unwrap();
        let huge = good.replace("m=1024,", "m=4294967295,");
        assert_ne!(huge, good);
        assert_eq!(h.verify("pw", &huge), Verification::Invalid);
        assert_eq!(
            h.verify("pw", &good),
            Verification::Valid,
            "the thread still hashes"
        );
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(Argon2Hasher::new(1, 1, 1).is_err());
        assert!(Argon2Hasher::new(1024, 0, 1).is_err());
    }
}
