import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines on standard error, one `write(2)` each, in swift-log's `StreamLogHandler` format:
///
///     2026-12-06T19:35:35+0000 info intake.worker: bytes=49 method=GET pid=7 … [FastCGI] request
///
/// Every request writes a line, so the line is made for little: the bytes are built in one
/// buffer, the timestamp is formatted once a second per thread (`StreamLogHandler` calls
/// `localtime`, which takes glibc's time zone lock on every line), the logger's own metadata is
/// rendered once when it is set, and the line goes out in one `write(2)` without the `FILE`
/// lock that `StreamLogHandler` holds around `fwrite` and `fflush`. Lines are written before the
/// call returns, never queued, so a line is in the log by the time its response has been sent
/// and none is lost when a process dies. Lines up to `PIPE_BUF` (4 KiB) from several processes
/// sharing the file or pipe never interleave.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata = Logger.Metadata() {
        didSet { sortedMetadata = metadata.sorted { $0.key < $1.key } }
    }
    private var sortedMetadata: [(key: String, value: Logger.MetadataValue)] = []
    private let label: String
    private let fd: Int32

    /// A handler for `label` writing to standard error (or to `fd`, for tests).
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider, fd: Int32 = 2) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        Self.appendTimestamp(to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(event.level.rawValue, to: &line)
        if !label.isEmpty { line.append(UInt8(ascii: " ")) }
        Self.append(label, to: &line)
        line.append(UInt8(ascii: ":"))
        appendMetadata(event, to: &line)
        line.append(contentsOf: " [".utf8)
        Self.append(event.source, to: &line)
        line.append(contentsOf: "] ".utf8)
        Self.append(event.message.description, to: &line)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { Self.writeAll($0, fd: fd) }
    }

    /// Writes what `log(event:)` writes for an event at `level` with `fields` as its metadata
    /// (keys distinct, in ascending order), without the event's dictionary: the request line,
    /// written for every request, costs a third of what it does through `Logger`. Returns false,
    /// writing nothing, when a metadata provider is set (its values belong in the line too).
    func log(_ level: Logger.Level, _ message: String, source: String, sortedFields fields: [(key: String, value: String)]) -> Bool {
        guard metadataProvider == nil else { return false }
        guard level >= logLevel else { return true }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        Self.appendTimestamp(to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(level.rawValue, to: &line)
        if !label.isEmpty { line.append(UInt8(ascii: " ")) }
        Self.append(label, to: &line)
        line.append(UInt8(ascii: ":"))
        // Merge the two sorted lists; a field replaces the logger's item of the same key.
        var i = 0, j = 0
        while i < fields.count || j < sortedMetadata.count {
            if j == sortedMetadata.count || (i < fields.count && fields[i].key <= sortedMetadata[j].key) {
                if j < sortedMetadata.count && fields[i].key == sortedMetadata[j].key { j += 1 }
                Self.append(fields[i].key, .string(fields[i].value), to: &line)
                i += 1
            } else {
                Self.append(sortedMetadata[j].key, sortedMetadata[j].value, to: &line)
                j += 1
            }
        }
        line.append(contentsOf: " [".utf8)
        Self.append(source, to: &line)
        line.append(contentsOf: "] ".utf8)
        Self.append(message, to: &line)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { Self.writeAll($0, fd: fd) }
        return true
    }

    /// ` key=value` for each metadata item, sorted by key; the event's own items, the provider's
    /// and the error's replace the logger's items of the same key (as `StreamLogHandler` merges).
    private func appendMetadata(_ event: LogEvent, to line: inout [UInt8]) {
        let provided = metadataProvider?.get() ?? [:]
        var extra = event.metadata ?? [:]
        if !provided.isEmpty { extra.merge(provided) { explicit, _ in explicit } }
        if let error = event.error {
            extra["error.message"] = "\(error)"
            extra["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        if extra.isEmpty {
            for (key, value) in sortedMetadata { Self.append(key, value, to: &line) }
            return
        }
        // Pairs taken out of the dictionaries by iterating (no hashing), then put in key order by
        // sorting their positions (no value is copied around by the sort).
        var keys: [String] = []
        var values: [Logger.MetadataValue] = []
        keys.reserveCapacity(extra.count + sortedMetadata.count)
        values.reserveCapacity(extra.count + sortedMetadata.count)
        for (key, value) in extra {
            keys.append(key)
            values.append(value)
        }
        for (key, value) in sortedMetadata where extra[key] == nil {
            keys.append(key)
            values.append(value)
        }
        var order = Array(keys.indices)
        order.sort { keys[$0] < keys[$1] }
        for i in order { Self.append(keys[i], values[i], to: &line) }
    }

    private static func append(_ key: String, _ value: Logger.MetadataValue, to line: inout [UInt8]) {
        line.append(UInt8(ascii: " "))
        append(key, to: &line)
        line.append(UInt8(ascii: "="))
        if case .string(let text) = value { append(text, to: &line) } else { append(value.description, to: &line) }
    }

    /// Appends the UTF-8 of `text` as one copy.
    @inline(__always)
    private static func append(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { line.append(contentsOf: $0) }
    }

    /// Writes every byte, retrying after a signal or a short write; a failure drops the line (a
    /// log must never fail a request).
    static func writeAll(_ bytes: UnsafeRawBufferPointer, fd: Int32) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            p += n
            left -= n
        }
    }

    /// The local time as `%Y-%m-%dT%H:%M:%S%z`, formatted when this thread's second changes.
    static func appendTimestamp(to line: inout [UInt8]) {
        let now = time(nil)
        let cache = TimestampCache.current
        if cache.second != now {
            var t = now
            var parts = tm()
            var buffer = [CChar](repeating: 0, count: 64)
            if localtime_r(&t, &parts) != nil {
                let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
                cache.text = buffer[..<n].map { UInt8(bitPattern: $0) }
            } else {
                cache.text = Array("<unknown>".utf8)
            }
            cache.second = now
        }
        line.append(contentsOf: cache.text)
    }

    /// One thread's last formatted second, kept in thread-specific storage (no lock).
    private final class TimestampCache {
        var second: time_t = -1
        var text: [UInt8] = []

        static var current: TimestampCache {
            if let raw = pthread_getspecific(key) { return Unmanaged<TimestampCache>.fromOpaque(raw).takeUnretainedValue() }
            let cache = TimestampCache()
            pthread_setspecific(key, Unmanaged.passRetained(cache).toOpaque())
            return cache
        }

        /// Released by the key's destructor when the thread exits.
        static let key: pthread_key_t = {
            var key = pthread_key_t()
            pthread_key_create(&key) { raw in
                if let raw { Unmanaged<TimestampCache>.fromOpaque(raw).release() }
            }
            return key
        }()
    }
}
