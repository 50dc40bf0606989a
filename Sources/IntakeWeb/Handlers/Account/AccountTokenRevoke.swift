import Intake
import Web

/// `POST /account/tokens/:id/revoke`: revokes one of the user's own API tokens at once; another
/// user's token id is answered as not found.
enum AccountTokenRevoke {
    static func handle(_ context: RequestContext) throws -> Response {
        guard try context.stores.apiTokens.revoke(id: try context.pathID(), userID: context.user!.id, by: context.actor) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such token of yours, or it was already revoked.")
        }
        return FormAnswer.saved(context, "The token was revoked: scripts using it are refused from now on.", redirect: "/account#api-tokens")
    }
}
