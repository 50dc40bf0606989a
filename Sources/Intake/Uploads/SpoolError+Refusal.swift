import Spool

/// What the client is told when the spool cannot take an upload's bytes. The upload was not
/// stored and can be sent again; errno says why (a full disk is the usual reason for a failed write).
extension SpoolError {
    var refusal: ValidationError {
        switch function {
        case "write", "pwrite": return ValidationError("", "The upload could not be stored (errno \(code)): is the disk full?")
        case "fsync", "fdatasync": return ValidationError("", "The upload could not be stored (fsync errno \(code)).")
        case "rename": return ValidationError("", "The upload could not be kept for delivery (errno \(code)).")
        default: return ValidationError("", "The upload could not be stored (errno \(code)).")
        }
    }

    /// Runs spool operations, turning a failed system call into its refusal.
    static func refusing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SpoolError {
            throw error.refusal
        }
    }
}
