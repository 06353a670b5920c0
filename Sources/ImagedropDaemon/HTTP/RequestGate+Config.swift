import ImagedropParsing
import ImagedropStore

extension RequestGate.Policy {
    /// The gate's rules from `[http]`: the listen address and `allowed_hosts` for the Host check, `actions`, the
    /// bearer token (required with `allow_remote`), and the CSRF key of this process.
    package init(http: Config.HTTP, csrfKey: CSRFKey, maxBodyBytes: Int) {
        var listenHost: String?
        if case .tcp(let host, _) = http.listen { listenHost = host }
        self.init(
            hosts: HostRule(listenHost: listenHost, allowedHosts: http.allowedHosts), actions: http.actions,
            bearerToken: http.token?.bytes, bearerRequired: http.allowRemote, csrfSign: csrfKey.sign,
            maxBodyBytes: maxBodyBytes)
    }
}
