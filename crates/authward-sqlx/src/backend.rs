//! [`Backend`]: a database authward-sqlx supports, its SQL [`Dialect`] and its schema
//! [`Migrate`]ions together.

use crate::dialect::Dialect;
use crate::migrate::Migrate;

/// A query being built for backend `DB` (what [`crate::ExtraColumns::bind`] receives).
pub type SqlQuery<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

/// A database authward-sqlx supports: [`sqlx::Postgres`] (feature `postgres`),
/// [`sqlx::MySql`] (feature `mysql`, MySQL and MariaDB) and [`sqlx::Sqlite`] (feature `sqlite`).
///
/// Sealed (through [`Dialect`]): implemented by every type that has both the query dialect and
/// the migrations, which only this crate provides.
pub trait Backend: Dialect + Migrate {}

impl<DB: Dialect + Migrate> Backend for DB {}
