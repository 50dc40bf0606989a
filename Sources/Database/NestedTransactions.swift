/// How both drivers nest transactions: the outermost `write` or `read` begins a transaction and
/// commits it when its body returns (rolls it back when the body throws); a nested call is a
/// savepoint, released or rolled back alone.
protocol NestedTransactions: AnyObject {
    /// 0 outside a transaction; 1 in one; more inside savepoints.
    var transactionDepth: Int { get set }
    func executeScript(_ sql: String) throws
    /// Starts the outermost transaction with `statement` (SQLite retries it while busy).
    func beginTransaction(_ statement: String) throws
    /// Whether the connection still has a transaction open (a failed statement may have ended it).
    var isInTransaction: Bool { get }
}

extension NestedTransactions {
    func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            let name = "sp\(transactionDepth)"
            try executeScript("SAVEPOINT \(name)")
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            do {
                let result = try body()
                try executeScript("RELEASE SAVEPOINT \(name)")
                return result
            } catch {
                try? executeScript("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
                throw error
            }
        }
        try beginTransaction(begin)
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try executeScript("COMMIT")
            return result
        } catch {
            if isInTransaction { try? executeScript("ROLLBACK") }
            throw error
        }
    }
}
