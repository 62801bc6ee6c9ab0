/// Expands the [`users`](crate::users) suite for a `UserDatabase`.
///
/// - `user_database_tests!(module_name, fixture = Fixture, db = constructor)` for any user type
///   ([`UserFixture`](crate::UserFixture));
/// - `user_database_tests!(module_name, id = IdType, extra = ExtraType, db = constructor)` for
///   the ready-made `authward_core::User<ID, X>` ([`StdUser`](crate::StdUser));
///   `ExtraType` implements [`ExtraFixture`](crate::ExtraFixture). With `extra = ()` the suite
///   leaves out `custom_fields_round_trip`, which proves nothing without custom fields.
///
/// The constructor may `.await`.
#[macro_export]
macro_rules! user_database_tests {
    ($name:ident, id = $id:ty, extra = (), db = $ctor:expr $(,)?) => {
        $crate::__user_tests!(($name, users, <$crate::StdUser<$id, ()>>, $ctor;) []);
    };
    ($name:ident, id = $id:ty, extra = $extra:ty, db = $ctor:expr $(,)?) => {
        $crate::user_database_tests!($name, fixture = $crate::StdUser<$id, $extra>, db = $ctor);
    };
    ($name:ident, fixture = $fixture:ty, db = $ctor:expr $(,)?) => {
        $crate::__user_tests!(($name, users, <$fixture>, $ctor;) [custom_fields_round_trip]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __user_tests {
    (($($prefix:tt)*) [$($more:ident),*]) => {
        $crate::__suite!($($prefix)* [
            create_get_round_trip,
            get_unknown_is_none,
            get_by_email_ignores_ascii_case,
            get_by_email_ignores_unicode_case,
            email_equivalences_are_one_account,
            get_by_email_matches_metacharacters_literally,
            duplicate_email_differing_in_case_is_rejected,
            concurrent_creates_of_one_email_yield_one_user,
            patch_leaves_unset_fields_untouched,
            empty_patch_changes_nothing,
            email_change_keeps_uniqueness,
            email_change_frees_the_old_address,
            update_unknown_user_is_not_found,
            replace_password_hash_is_conditional_and_atomic,
            replace_password_hash_compares_the_hash_exactly,
            delete_removes_the_user,
            $($more,)*
        ]);
    };
}

/// Expands the [`oauth`](crate::oauth) suite for an `OAuthUserDatabase`.
///
/// `oauth_user_database_tests!(module_name, fixture = Fixture, db = constructor)`, or
/// `oauth_user_database_tests!(module_name, id = IdType, extra = ExtraType, db = constructor)`
/// for `authward_core::User<ID, X>`.
#[macro_export]
macro_rules! oauth_user_database_tests {
    ($name:ident, id = $id:ty, extra = $extra:ty, db = $ctor:expr $(,)?) => {
        $crate::oauth_user_database_tests!($name, fixture = $crate::StdUser<$id, $extra>, db = $ctor);
    };
    ($name:ident, fixture = $fixture:ty, db = $ctor:expr $(,)?) => {
        $crate::__suite!($name, oauth, <$fixture>, $ctor; [
            add_and_look_up,
            lookup_needs_both_provider_and_account,
            update_replaces_tokens,
            update_unknown_account_is_not_found,
            account_belongs_to_one_user_only,
            add_to_unknown_user_is_not_found,
            accounts_are_listed_in_link_order,
            deleting_the_user_deletes_its_accounts,
            create_with_oauth_account_is_all_or_nothing,
            create_with_oauth_account_survives_cancellation,
        ]);
    };
}

/// Expands the [`tokens`](crate::tokens) suite for an `AccessTokenDatabase<ID>`.
///
/// `access_token_database_tests!(module_name, id = IdType, db = constructor)`, where the
/// constructor yields `(token_store, user_store)`: the user store makes the users that own the
/// tokens (stores with a foreign key to the user table need real users).
#[macro_export]
macro_rules! access_token_database_tests {
    ($name:ident, id = $id:ty, db = $ctor:expr $(,)?) => {
        $crate::__suite!($name, tokens, <$id>, $ctor; [
            create_get_round_trip,
            max_age_boundary,
            unknown_token_is_none,
            duplicate_digest_is_rejected,
            delete_removes_once,
            concurrent_deletes_succeed_once,
            delete_all_for_user,
            list_for_user_oldest_first,
            delete_expired_keeps_the_boundary,
            refresh_metadata_round_trips,
            any_for_user_matches_only_the_owner,
        ]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    ($name:ident, $suite:ident, <$param:ty>, $ctor:expr; [$($test:ident),+ $(,)?]) => {
        #[allow(unused_imports)]
        mod $name {
            use super::*;
            $(
                #[test]
                fn $test() {
                    $crate::__private::block_on(async {
                        let db = $ctor;
                        $crate::$suite::$test::<$param, _>(db).await;
                    });
                }
            )+
        }
    };
}
