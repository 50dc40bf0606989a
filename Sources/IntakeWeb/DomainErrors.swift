import Intake
import Integrations
import Web

// The one place where the domain's errors become HTTP answers: each refusal the domain can give
// a client has its status, code and message here, so no handler maps them by itself (nor calls
// another handler to do it).

extension UploadRefusal: HTTPResponseError {
    public var status: HTTPStatus {
        switch kind {
        case .closed, .scannerDown: return .serviceUnavailable
        case .password: return .forbidden
        case .invalid, .type: return .badRequest
        case .tooLarge, .overQuota: return .payloadTooLarge
        case .infected: return .unprocessableContent
        case .storage: return HTTPStatus(502, "Bad Gateway")
        case .tooMany: return HTTPStatus(429, "Too Many Requests")
        }
    }

    public var code: String {
        switch kind {
        case .closed: return "portal_closed"
        case .password: return "password_required"
        case .invalid: return "invalid"
        case .type: return "file_type"
        case .tooLarge: return "file_too_large"
        case .overQuota: return "quota_exceeded"
        case .infected: return "infected"
        case .scannerDown: return "scanner_unavailable"
        case .storage: return "storage_failed"
        case .tooMany: return "too_many_uploads"
        }
    }

    public var publicMessage: String { message }
}

extension TusFailure: HTTPResponseError {
    public var status: HTTPStatus {
        switch self {
        case .notFound: return .notFound
        case .gone: return HTTPStatus(410, "Gone")
        case .offsetConflict, .finished: return .conflict
        case .locked: return HTTPStatus(423, "Locked")
        case .checksumMismatch: return HTTPStatus(460, "Checksum Mismatch")
        case .pastLength: return .payloadTooLarge
        case .interrupted: return .badRequest
        }
    }

    public var code: String {
        switch self {
        case .notFound: return "not_found"
        case .gone: return "expired"
        case .offsetConflict: return "offset_conflict"
        case .locked: return "locked"
        case .checksumMismatch: return "checksum_mismatch"
        case .pastLength: return "past_length"
        case .finished: return "finished"
        case .interrupted: return "interrupted"
        }
    }

    public var publicMessage: String {
        switch self {
        case .notFound: return "There is no such upload."
        case .gone: return "This upload expired; start it again."
        case .offsetConflict(let current): return "This upload stands at byte \(current); send from there."
        case .locked: return "Another request is writing to this upload; try again shortly."
        case .checksumMismatch: return "The chunk does not match its Upload-Checksum; it was dropped. Send it again."
        case .pastLength: return "The chunk goes past the upload's length; it was dropped."
        case .finished(let status): return "This upload is finished (\(status)); nothing more can be sent or removed."
        case .interrupted: return "The chunk was cut short; resume from the offset HEAD reports."
        }
    }
}

extension StorageAccountTransitions.Refused: HTTPResponseError {
    public var status: HTTPStatus { .conflict }
    public var code: String { "invalid_transition" }
    public var publicMessage: String { "\(self)." }
}
