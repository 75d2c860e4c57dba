// Portable schema shared by the SQLite and PostgreSQL backends (DESIGN.md §4).

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        customer_user_id -> Nullable<Text>,
        customer_name -> Text,
        subject -> Nullable<Text>,
        category -> Nullable<Text>,
        priority -> Text,
        conversation_type -> Text,
        status -> Text,
        assigned_agent_id -> Nullable<Text>,
        last_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        guest_id -> Nullable<Text>,
        anon_key -> Nullable<Text>,
        first_response_at -> Nullable<Timestamp>,
        labels -> Text,
        rating -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        rated_at -> Nullable<Timestamp>,
        snoozed_until -> Nullable<Timestamp>,
        contact_email -> Nullable<Text>,
        customer_context -> Nullable<Text>,
        customer_attributes -> Nullable<Text>,
    }
}

diesel::table! {
    desk_settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    guests (id) {
        id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    read_cursors (conversation_id, participant_id) {
        conversation_id -> Text,
        participant_id -> Text,
        last_read_seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        conversation_id -> Text,
        seq -> BigInt,
        sender_id -> Text,
        sender_kind -> Text,
        sender_name -> Text,
        content -> Text,
        message_type -> Text,
        client_id -> Nullable<Text>,
        created_at -> Timestamp,
        private -> Bool,
    }
}

diesel::table! {
    agents (user_id) {
        user_id -> Text,
        availability -> Text,
        capacity -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    canned_responses (id) {
        id -> Text,
        shortcut -> Text,
        content -> Text,
        created_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        message_id -> Nullable<Text>,
        conversation_id -> Nullable<Text>,
        uploader_id -> Text,
        sha256 -> Text,
        file_name -> Text,
        content_type -> Text,
        size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    auth_codes (id) {
        id -> Text,
        code_hash -> Text,
        conversation_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        guest_id -> Nullable<Text>,
        device_info -> Nullable<Text>,
        created_by -> Text,
        attempts -> Integer,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    live_streams (id) {
        id -> Text,
        title -> Text,
        description -> Text,
        stream_url -> Text,
        quality -> Text,
        started_by -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        peak_viewers -> BigInt,
        likes -> BigInt,
        pinned -> Text,
        liked_by -> Text,
        pinned_message -> Nullable<Text>,
    }
}

diesel::table! {
    stream_chat (id) {
        id -> Text,
        stream_id -> Text,
        sender_id -> Text,
        username -> Text,
        message -> Text,
        is_admin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stream_moderators (user_id) {
        user_id -> Text,
        name -> Text,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    stream_bans (user_id) {
        user_id -> Text,
        name -> Text,
        reason -> Text,
        until -> Nullable<Timestamp>,
        banned_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stream_blocked_terms (term) {
        term -> Text,
        added_by -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    stream_moderation_log (id) {
        id -> Text,
        action -> Text,
        subject -> Nullable<Text>,
        detail -> Text,
        by_id -> Text,
        by_name -> Text,
        stream_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One row the health probe updates, to know that writes commit.
    health_probe (id) {
        id -> Integer,
        checks -> BigInt,
    }
}

diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(read_cursors -> conversations (conversation_id));
diesel::allow_tables_to_appear_in_same_query!(
    conversations,
    desk_settings,
    messages,
    guests,
    read_cursors,
    attachments,
    auth_codes,
    live_streams,
    stream_chat
);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        url -> Text,
        description -> Text,
        events -> Text,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (pos) {
        pos -> BigInt,
        event_id -> Text,
        endpoint_id -> Text,
        event_type -> Text,
        ordering_key -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}
