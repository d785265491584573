package httpserver

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a server's Prometheus metrics, in a private registry (no
// global state: two servers in one process each have their own). Labels
// are bounded sets (server, operation, result); a chunk ID or index name
// is never a label.
//
//	desync_http_requests_total{server,operation,result}      counter
//	desync_http_request_bytes_total{server,operation}        counter, request bodies read
//	desync_http_response_bytes_total{server,operation}       counter, response bodies written
//	desync_http_request_duration_seconds{server,operation}   histogram
//	desync_http_requests_in_flight{server}                   gauge
//
// server is "chunk" or "index"; operation is "get", "head", "put",
// "metrics" or "other"; result is "ok", "not_found", "bad_request",
// "unauthorized", "forbidden", "method_not_allowed", "too_large",
// "invalid", "error" (5xx) or "other".
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	reqBytes  *prometheus.CounterVec
	respBytes *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
}

// NewMetrics returns a set of metrics in a new registry, which also holds
// the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "desync_http_requests_total", Help: "HTTP requests served, by server, operation and result.",
		}, []string{"server", "operation", "result"}),
		reqBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "desync_http_request_bytes_total", Help: "Bytes of request bodies read.",
		}, []string{"server", "operation"}),
		respBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "desync_http_response_bytes_total", Help: "Bytes of response bodies written.",
		}, []string{"server", "operation"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "desync_http_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of the response.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"server", "operation"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "desync_http_requests_in_flight", Help: "Requests being served.",
		}, []string{"server"}),
	}
	m.reg.MustRegister(m.requests, m.reqBytes, m.respBytes, m.latency, m.inFlight,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Registry returns the private registry, to add collectors or gather.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(server, op string, code int, in, out int64, d time.Duration) {
	m.requests.WithLabelValues(server, op, result(code)).Inc()
	if in > 0 {
		m.reqBytes.WithLabelValues(server, op).Add(float64(in))
	}
	if out > 0 {
		m.respBytes.WithLabelValues(server, op).Add(float64(out))
	}
	m.latency.WithLabelValues(server, op).Observe(d.Seconds())
}

// result maps a status code to the bounded "result" label.
func result(code int) string {
	switch {
	case code >= 200 && code < 300:
		return "ok"
	case code >= 500:
		return "error"
	}
	switch code {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnprocessableEntity:
		return "invalid"
	}
	return "other"
}

// operation maps a method to the bounded "operation" label.
func operation(method string) string {
	switch method {
	case http.MethodGet:
		return "get"
	case http.MethodHead:
		return "head"
	case http.MethodPut:
		return "put"
	}
	return "other"
}
