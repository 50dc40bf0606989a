import Logging
import Synchronization
import Testing
@testable import FastCGI
#if canImport(Glibc)
import Glibc
#endif

@Suite("Log lines")
struct StandardErrorLogHandlerTests {
    /// What swift-log's own `StreamLogHandler` writes for the same event.
    final class Lines: TextOutputStream, @unchecked Sendable {  // one test's thread only
        var text = ""
        func write(_ string: String) { text += string }
    }

    struct Failure: Error, CustomStringConvertible { var description: String { "disk on fire" } }

    /// Logs the same events through both handlers; returns both outputs without their timestamps.
    func both(_ log: (inout Logger) -> Void) throws -> (ours: [String], theirs: [String]) {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let stream = Lines()
        var ours = Logger(label: "intake.worker") { StandardErrorLogHandler(label: $0, metadataProvider: nil, fd: fds[1]) }
        var theirs = Logger(label: "intake.worker") { StreamLogHandler(label: $0, stream: stream, metadataProvider: nil) }
        log(&ours)
        log(&theirs)
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        func untimed(_ text: String) -> [String] {
            text.split(separator: "\n").map { String($0.drop { $0 != " " }) }
        }
        return (untimed(String(decoding: bytes, as: UTF8.self)), untimed(stream.text))
    }

    @Test("the same line as StreamLogHandler: level, label, metadata sorted by key (the event's over the logger's), source, message")
    func sameFormat() throws {
        let (ours, theirs) = try both { logger in
            logger[metadataKey: "pid"] = "42"
            logger[metadataKey: "zone"] = "base"
            logger.info("request", metadata: ["request_id": .string("abc"), "status": "200", "zone": "event", "bytes": "49"])
            logger.warning("plain")
            logger.error("nested", metadata: ["list": ["a", "b"], "map": ["k": "v"], "n": .stringConvertible(7)])
            logger.critical("failed", error: Failure())
            logger.debug("not at info")
        }
        #expect(ours.count == 4)
        #expect(ours == theirs)
        #expect(ours.first == " info intake.worker: bytes=49 pid=42 request_id=abc status=200 zone=event [FastCGITests] request")
    }

    @Test("the request line written directly is the line Logger writes for the same fields")
    func requestLine() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = StandardErrorLogHandler(label: "intake.worker", metadataProvider: nil, fd: fds[1])
        handler[metadataKey: "pid"] = "42"
        handler[metadataKey: "path"] = "the logger's, replaced"
        handler[metadataKey: "a"] = "first"
        handler[metadataKey: "zz"] = ["nested": "value"]
        let fields: [(key: String, value: String)] = [
            ("bytes", "49"), ("duration_ms", "0.5"), ("method", "GET"), ("path", "/healthz"), ("request_id", "abc"), ("status", "200"),
        ]
        #expect(handler.log(.info, "request", source: "FastCGI", sortedFields: fields))
        Logger(label: "intake.worker") { _ in handler }
            .info("request", metadata: Logger.Metadata(uniqueKeysWithValues: fields.map { ($0.key, .string($0.value)) }), source: "FastCGI")
        #expect(handler.log(.debug, "request", source: "FastCGI", sortedFields: fields), "below the level: written as nothing")
        var withProvider = handler
        withProvider.metadataProvider = Logger.MetadataProvider { ["trace": "t"] }
        #expect(!withProvider.log(.info, "request", source: "FastCGI", sortedFields: fields), "a provider's metadata: left to Logger")
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &buffer, buffer.count)
        let lines = String(decoding: buffer[..<max(n, 0)], as: UTF8.self).split(separator: "\n").map { $0.drop { $0 != " " } }
        #expect(lines.count == 2 && lines[0] == lines[1])
        #expect(lines.first == " info intake.worker: a=first bytes=49 duration_ms=0.5 method=GET path=/healthz pid=42 request_id=abc status=200 zz=[\"nested\": \"value\"] [FastCGI] request")
    }

    @Test("the timestamp is the local time in StreamLogHandler's form")
    func timestamp() {
        var line: [UInt8] = []
        StandardErrorLogHandler.appendTimestamp(to: &line)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.count == 24 && text.dropFirst(10).first == "T", "\(text)")
        var again: [UInt8] = []
        StandardErrorLogHandler.appendTimestamp(to: &again)
        #expect(again.count == line.count)
    }

    @Test("request durations: hundredths of a millisecond, written as the Double they used to be", arguments: [
        0.0, 0.004, 0.05, 0.5, 0.51, 0.999, 1.0, 3.07, 12.3456, 119.41, 1234.5, 99999.99,
    ])
    func duration(ms: Double) {
        #expect(FastCGIWorker.hundredths(milliseconds: ms) == "\(Double(Int(ms * 100)) / 100)")
    }
}
