//! Shapes shared by many answers: the `{success, data}` envelope and the error.

use serde::Serialize;
use utoipa::ToSchema;

/// A successful answer: `{success: true, data}`.
#[derive(Serialize, ToSchema)]
pub struct Data<T: ToSchema> {
    pub success: bool,
    pub data: T,
}

/// A refusal or failure: `{success: false, message, code, detail?}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    /// For people.
    pub message: String,
    /// For programs: `validation_failed`, `forbidden`, `not_found`, ….
    pub code: String,
    /// What exactly was wrong, where there is more to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `{success: true}` alone.
#[derive(Serialize, ToSchema)]
pub struct Done {
    pub success: bool,
}
