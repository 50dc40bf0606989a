import Intake
import Web

/// `GET /api/storage/accounts`: OAuth accounts with their storage account and state. The storage
/// API has the seed's request and response shapes; errors are `{"error":{"code":…,"message":…}}`,
/// and scripts send the CSRF token as `X-CSRF-Token`.
enum StorageAPIAccounts {
    static func handle(_ context: RequestContext) throws -> Response {
        .json(["accounts": .array(try StorageConnectionJSON.list(context))])
    }
}
