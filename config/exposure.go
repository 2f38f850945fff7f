package config

import (
	"fmt"
	"net"
	"strings"
)

// CheckAPIExposure refuses an API that anyone who reaches it may use:
// HOOKFLOW_API_KEYS empty while HOOKFLOW_HTTP_ADDR listens on an address
// other than loopback, unless HOOKFLOW_INSECURE_NO_AUTH=true says in words
// that this is meant (a private network with its own gate in front). An
// open API on loopback stays the development default; `serve` and `api`
// call this before they connect to anything.
func (c Config) CheckAPIExposure() error {
	if len(c.APIKeys) > 0 || c.InsecureNoAuth {
		return nil
	}
	if loopbackOnly(c.HTTPAddr) {
		return nil
	}
	return fmt.Errorf("HOOKFLOW_API_KEYS is empty and HOOKFLOW_HTTP_ADDR=%s listens beyond loopback: "+
		"anyone who reaches it could publish events and read subscriber secrets. "+
		"Set HOOKFLOW_API_KEYS (openssl rand -hex 32), listen on 127.0.0.1, "+
		"or set HOOKFLOW_INSECURE_NO_AUTH=true to run without authentication anyway", c.HTTPAddr)
}

// loopbackOnly reports whether a listen address accepts connections from
// this machine only: localhost, or a host whose every address is loopback.
// An empty host (":8080") is every interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
