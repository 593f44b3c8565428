//! Domain enums as database values.
//!
//! Every status, role, category, resolution, language and email kind is
//! stored as the same lowercase text the API speaks (so no data migration was
//! needed), and read back into its enum here, once. Code above the database
//! compares enums, never strings. A value the enum does not know (a
//! hand-edited row) is a deserialisation error, not a silent default.

/// `text_enum!(Type)` maps `Type` to `Text` on every backend through its
/// `as_str` and `parse`. The impls are generic over the backend, so they hold
/// for SQLite, PostgreSQL and the `MultiConnection` backend alike.
macro_rules! text_enum {
    ($($ty:ty),* $(,)?) => {$(
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $ty
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                <$ty>::parse(&s).ok_or_else(|| {
                    format!("{:?} is not a valid {}", s, stringify!($ty)).into()
                })
            }
        }
    )*};
}

text_enum!(
    super::workflow::Status,
    super::workflow::Resolution,
    super::workflow::AnchorState,
    super::editor::Role,
    super::report::Category,
    super::article::Language,
    super::email::EmailKind,
    super::subject::RequestKind,
    super::reader::Standing,
    super::hook::DeliveryState,
    super::email::OutboxStatus,
);
