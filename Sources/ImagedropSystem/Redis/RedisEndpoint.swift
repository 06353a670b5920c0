/// Where the fleet's Redis is and how to log in: `[fleet] redis` parsed (ImagedropStore's FleetConfig) plus the
/// password read from its file or the environment.
package struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    package enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    package var address: Address
    package var database: Int
    package var password: String?

    package init(address: Address, database: Int = 0, password: String? = nil) {
        self.address = address
        self.database = database
        self.password = password
    }

    /// For messages: never the password.
    package var description: String {
        switch address {
        case .tcp(let host, let port): "redis://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .unix(let path): "unix:\(path)?db=\(database)"
        }
    }
}
