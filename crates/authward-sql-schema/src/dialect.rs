//! The SQL dialects: what the migration writes differently for each database, as data
//! (quoting, placeholders, catalog queries, type names and literals).

/// A database the schema is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL: transactional DDL, `$n` placeholders.
    Postgres,
    /// MySQL and MariaDB: DDL commits at once, `?` placeholders.
    MySql,
    /// SQLite: transactional DDL, `?n` placeholders.
    Sqlite,
}

impl Dialect {
    /// `ident` quoted for this database, with any quote character inside it doubled (names
    /// are validated before they get here: see [`crate::Ident`]).
    ///
    /// ```
    /// use authward_sql_schema::Dialect;
    /// assert_eq!(Dialect::Postgres.quote("user"), "\"user\"");
    /// assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    /// ```
    pub fn quote(self, ident: &str) -> String {
        let mark = match self {
            Self::Postgres => '"',
            Self::MySql | Self::Sqlite => '`',
        };
        let mut quoted = String::with_capacity(ident.len() + 2);
        quoted.push(mark);
        for c in ident.chars() {
            if c == mark {
                quoted.push(mark);
            }
            quoted.push(c);
        }
        quoted.push(mark);
        quoted
    }

    /// The placeholder of the `n`th bound value (from 1).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::MySql => "?".to_owned(),
            Self::Sqlite => format!("?{n}"),
        }
    }

    /// Whether DDL is part of the surrounding transaction (a failed migration then changes
    /// nothing).
    pub fn transactional_ddl(self) -> bool {
        !matches!(self, Self::MySql)
    }

    /// Finds a table by name (`1`: the table).
    pub(crate) fn table_exists_sql(self) -> &'static str {
        match self {
            Self::Postgres => PG_RELATION_EXISTS,
            Self::MySql => {
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = ?"
            }
            Self::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        }
    }

    /// Finds an index: `1`: the table, `2`: the index when [`Dialect::index_by_table`];
    /// otherwise `1`: the index.
    pub(crate) fn index_exists_sql(self) -> &'static str {
        match self {
            Self::Postgres => PG_RELATION_EXISTS,
            Self::MySql => {
                "SELECT 1 FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1"
            }
            Self::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
        }
    }

    /// Whether index names are per table (MySQL) rather than per schema.
    pub(crate) fn index_by_table(self) -> bool {
        matches!(self, Self::MySql)
    }

    /// Finds a column (`1`: the table, `2`: the column).
    pub(crate) fn column_exists_sql(self) -> &'static str {
        match self {
            Self::Postgres => {
                "SELECT 1 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
            }
            Self::MySql => {
                "SELECT 1 FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
            }
            Self::Sqlite => "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
        }
    }

    /// The type of `email_key`, without `NULL`/`NOT NULL` (binary on MySQL, so that the
    /// comparison is byte-exact whatever the collation).
    pub(crate) fn email_key_type(self) -> &'static str {
        match self {
            Self::MySql => "VARBINARY(1280)",
            Self::Postgres | Self::Sqlite => "TEXT",
        }
    }

    /// The type of the boolean columns.
    pub(crate) fn bool_type(self) -> &'static str {
        match self {
            Self::MySql => "BOOL",
            Self::Postgres | Self::Sqlite => "BOOLEAN",
        }
    }

    /// A boolean literal, as a column default.
    pub(crate) fn literal(self, value: bool) -> &'static str {
        match (self, value) {
            (Self::Sqlite, true) => "1",
            (Self::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// Written after the column list of `CREATE TABLE` (with its leading space), or empty.
    pub(crate) fn table_options(self) -> &'static str {
        match self {
            Self::MySql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            Self::Postgres | Self::Sqlite => "",
        }
    }
}

/// PostgreSQL tables and indexes are looked up in the first schema of the `search_path`.
const PG_RELATION_EXISTS: &str = "SELECT 1 FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relname = $1";
