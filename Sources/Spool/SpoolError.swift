#if canImport(Glibc)
import Glibc
#endif

/// A system call on a spool file that failed: which call, on which file, and the errno it left.
public struct SpoolError: Error, Equatable, CustomStringConvertible {
    /// The errno the call left (`ENOSPC`, `EEXIST`, …).
    public let code: Int32
    /// The call, as `open`, `pwrite`, `fdatasync`.
    public let function: String
    public let path: String

    public init(code: Int32, function: String, path: String) {
        self.code = code
        self.function = function
        self.path = path
    }

    public var description: String { "\(function)(\(path)): errno \(code) (\(String(cString: strerror(code))))" }

    /// The one checking function for the system calls here: runs `call` again when a signal
    /// interrupted it (`EINTR`), and turns any other failure (a negative result, with `errno` set,
    /// as POSIX defines for these calls) into a `SpoolError`.
    @discardableResult
    static func check<T: BinaryInteger>(_ function: String, _ path: String, _ call: () -> T) throws -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SpoolError(code: code, function: function, path: path) }
        }
    }
}
