//! [`SeaOrmRunner`]: the shared schema's statements over one SeaORM transaction.

use async_trait::async_trait;
use authward_sql_schema::{Cell, Dialect, Kind, Param, Runner};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, QueryResult, Statement, Value,
};

/// The migration's transaction (one connection, so locks and, where DDL is transactional,
/// the changes stay together).
pub(crate) struct SeaOrmRunner<'a> {
    tx: &'a DatabaseTransaction,
    backend: DbBackend,
}

impl<'a> SeaOrmRunner<'a> {
    /// Runs the migration in `tx`, on a `backend` database.
    pub(crate) fn new(tx: &'a DatabaseTransaction, backend: DbBackend) -> Self {
        Self { tx, backend }
    }

    fn statement(&self, sql: &str, params: &[Param<'_>]) -> Statement {
        let values: Vec<Value> = params
            .iter()
            .map(|param| match *param {
                Param::Text(text) => Value::from(text),
                Param::Bytes(bytes) => Value::Bytes(Some(Box::new(bytes.to_vec()))),
            })
            .collect();
        Statement::from_sql_and_values(self.backend, sql, values)
    }
}

#[async_trait]
impl Runner for SeaOrmRunner<'_> {
    type Error = DbErr;

    fn dialect(&self) -> Dialect {
        match self.backend {
            DbBackend::Postgres => Dialect::Postgres,
            DbBackend::MySql => Dialect::MySql,
            DbBackend::Sqlite => Dialect::Sqlite,
        }
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<(), DbErr> {
        if params.is_empty() {
            self.tx.execute_unprepared(sql).await.map(drop)
        } else {
            self.tx.execute(self.statement(sql, params)).await.map(drop)
        }
    }

    async fn fetch(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        columns: &[Kind],
    ) -> Result<Vec<Vec<Cell>>, DbErr> {
        let rows = self.tx.query_all(self.statement(sql, params)).await?;
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(index, kind)| cell(row, index, *kind))
                    .collect()
            })
            .collect()
    }
}

/// Column `index` of `row` read as `kind`; text also from binary-collated MySQL columns.
fn cell(row: &QueryResult, index: usize, kind: Kind) -> Result<Cell, DbErr> {
    let bytes = |row: &QueryResult| row.try_get_by_index::<Option<Vec<u8>>>(index);
    Ok(match kind {
        Kind::Bytes => bytes(row)?.map_or(Cell::Null, Cell::Bytes),
        Kind::Text => match row.try_get_by_index::<Option<String>>(index) {
            Ok(text) => text.map_or(Cell::Null, Cell::Text),
            Err(first) => match bytes(row).map_err(|_| first)? {
                None => Cell::Null,
                Some(bytes) => {
                    Cell::Text(String::from_utf8(bytes).map_err(|e| DbErr::Custom(e.to_string()))?)
                }
            },
        },
    })
}
