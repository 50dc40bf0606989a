/// A template that cannot be compiled or rendered, with where: `file:line:column: message`.
public struct TemplateError: Error, CustomStringConvertible, Sendable {
    /// The template's file (or name when it has no file).
    public let file: String
    /// 1-based line, 0 when the error is not about one place.
    public let line: Int
    /// 1-based column (in characters).
    public let column: Int
    /// What is wrong.
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// Maps byte offsets of a source to line and column, for error messages.
struct SourceLocator {
    let bytes: [UInt8]

    /// (line, column), both 1-based; the column counts characters, not bytes.
    func location(_ offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var i = 0
        while i < offset && i < bytes.count {
            if bytes[i] == 10 {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return (line, column)
    }

    func text(_ offset: Int) -> String {
        let l = location(offset)
        return "\(l.line):\(l.column)"
    }
}
