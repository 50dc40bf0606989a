import Database
import Intake
import Logging
import Web

/// A route handler: one page action or API endpoint.
public typealias Handler = (Request, RequestContext) throws -> Response

/// Intake's web application: the routes, and the one place where errors become responses.
/// One instance per accept thread (it holds that thread's context).
public final class Application {
    private let router: Router<Handler>
    private let context: RequestContext

    /// An application answering with `context`'s configuration and database.
    public init(context: RequestContext) {
        self.context = context
        self.router = Self.routes(debug: context.configuration.debugRoutes)
    }

    /// Every route of the site.
    static func routes(debug: Bool) -> Router<Handler> {
        var router = Router<Handler>()
        router.add(.get, "/healthz", HealthHandler.show)
        if debug {
            router.add(.get, "/_debug/sleep", DebugHandler.sleep)
            router.add(.post, "/_debug/multipart", DebugHandler.multipart)
        }
        return router
    }

    /// Answers a request. User-facing errors keep their status and message; anything else is
    /// logged with the request id and answered with a plain 500 that reveals nothing.
    public func respond(to request: Request) -> Response {
        var request = request
        switch router.match(request.method, request.path) {
        case .found(let handler, let parameters):
            request.parameters = parameters
            do {
                return try handler(request, context)
            } catch let error as HTTPResponseError {
                return ErrorResponder.response(for: error, request: request)
            } catch {
                context.logger.error("unhandled error", metadata: ["request_id": "\(request.id)", "error": "\(error)"])
                return ErrorResponder.internalError(request: request)
            }
        case .methodNotAllowed(let allowed):
            var response = ErrorResponder.response(
                for: HTTPError(.methodNotAllowed, code: "method_not_allowed", "\(request.method) is not allowed here."),
                request: request)
            response.headers.set("allow", allowed.map(\.rawValue).joined(separator: ", "))
            return response
        case .notFound:
            return ErrorResponder.response(
                for: HTTPError(.notFound, code: "not_found", "There is no page at this address."), request: request)
        case .badPath:
            return ErrorResponder.response(
                for: HTTPError.badRequest("The address is not valid (bad percent-encoding or UTF-8)."), request: request)
        }
    }
}
