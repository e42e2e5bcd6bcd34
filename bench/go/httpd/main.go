// httpd: the twin of examples/httpd.c — Go's hello-world HTTP server,
// net/http serving each connection in a goroutine of its own, keep-alive
// and pipelining included, every request answered "Hello, world".
//
//	httpd [port [host]]
package main

import (
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	port, host := "8080", ""
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	if len(os.Args) > 2 {
		host = os.Args[2]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, world"))
	})
	log.Fatal(http.ListenAndServe(net.JoinHostPort(host, port), nil))
}
