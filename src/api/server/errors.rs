//! API errors: a status code and Docker's `{"message": ...}` body, with the codes Docker's
//! errdefs map to (400 bad parameter, 401 unauthorized, 404 not found, 409 conflict, 500).
//!
//! Handlers return `ApiError`; only `server::handle` turns it into a response. Errors are
//! logged there (server faults) or not at all (client mistakes), never at the place they arise.

use hyper::StatusCode;

use crate::daemon::containers::ContainerError;
use crate::image::archive::ArchiveError;
use crate::image::reference::ReferenceError;
use crate::image::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Docker's answer for a path it has no route for.
    pub fn page_not_found() -> ApiError {
        ApiError::not_found("page not found")
    }

    /// An error reported with the status its source chose (`PullError::http_status`, ...).
    pub fn with_status(status: u16, message: impl Into<String>) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<ReferenceError> for ApiError {
    fn from(e: ReferenceError) -> ApiError {
        ApiError::bad_request(e.to_string())
    }
}

impl From<ArchiveError> for ApiError {
    fn from(e: ArchiveError) -> ApiError {
        match e {
            ArchiveError::Store(store) => store.into(),
            ArchiveError::Invalid(message) => ApiError::bad_request(message),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// Docker's errdefs codes: not found 404, conflict 409, not modified 304 (answered without a
/// body), invalid parameter 400, the rest 500.
impl From<ContainerError> for ApiError {
    fn from(e: ContainerError) -> ApiError {
        let status = match &e {
            ContainerError::NotFound(_) => StatusCode::NOT_FOUND,
            ContainerError::Conflict(_) => StatusCode::CONFLICT,
            ContainerError::NotModified => StatusCode::NOT_MODIFIED,
            ContainerError::Invalid(_) => StatusCode::BAD_REQUEST,
            ContainerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// A blocking task that panicked or was cancelled: a server fault.
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(format!("internal error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_get_dockers_codes() {
        let e: ApiError = StoreError::NotFound("nope".into()).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "No such image: nope");
        let e: ApiError = StoreError::Conflict("in use".into()).into();
        assert_eq!(e.status, StatusCode::CONFLICT);
    }

    #[test]
    fn container_errors_get_dockers_codes() {
        let e: ApiError = ContainerError::NotFound("No such container: x".into()).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "No such container: x");
        let e: ApiError = ContainerError::Conflict("in use".into()).into();
        assert_eq!(e.status, StatusCode::CONFLICT);
        let e: ApiError = ContainerError::NotModified.into();
        assert_eq!(e.status, StatusCode::NOT_MODIFIED);
        let e: ApiError = ContainerError::Invalid("bad".into()).into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e: ApiError = ContainerError::Internal(anyhow::anyhow!("boom")).into();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.message, "boom");
    }

    #[test]
    fn unknown_status_is_a_server_fault() {
        assert_eq!(
            ApiError::with_status(42, "x").status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            ApiError::with_status(401, "x").status,
            StatusCode::UNAUTHORIZED
        );
    }
}
