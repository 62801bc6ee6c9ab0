//! The JWT verifier (`JwtStrategy::read_token` with a memory user store).
//!
//! Input: the first byte chooses the mode. `0`: the rest is a token as a client sends it.
//! Otherwise the rest is `header JSON 0xFF payload JSON`, signed with the strategy's key, so
//! the claims parser and the checks after the signature are reached.
#![no_main]

use std::sync::LazyLock;

use authward_core::memory::MemoryUserDatabase;
use authward_core::strategy::{JwtKey, JwtStrategy, Strategy};
use authward_core::{ManualClock, NewUser, User, UserDatabase};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"a fuzzing secret of thirty-two bytes or more";

struct World {
    runtime: tokio::runtime::Runtime,
    users: MemoryUserDatabase<i64>,
    jwt: JwtStrategy<i64>,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let users = MemoryUserDatabase::<i64>::new();
    runtime.block_on(async {
        for i in 0..3 {
            users
                .create(NewUser::new(format!("u{i}@example.com"), "h"))
                .await
                .expect("user");
        }
    });
    let clock = ManualClock::new(time::macros::datetime!(2030-01-01 0:00 UTC));
    let jwt = JwtStrategy::builder(
        JwtKey::hs256(SECRET).expect("key"),
        time::Duration::hours(1),
    )
    .clock(clock)
    .without_password_fingerprint()
    .build()
    .expect("strategy");
    World {
        runtime,
        users,
        jwt,
    }
});

fn sign(header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).expect("hmac key");
    mac.update(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    token
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let token = if *mode == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let split = rest.iter().position(|b| *b == 0xFF).unwrap_or(rest.len());
        let (header, payload) = rest.split_at(split);
        sign(header, payload.get(1..).unwrap_or_default())
    };
    let world = &*WORLD;
    let result: Result<Option<User<i64>>, _> = world
        .runtime
        .block_on(world.jwt.read_token(&token, &world.users));
    // Only a storage failure may be an error, and the memory store never fails.
    assert!(result.is_ok());
});
