// echo: the twin of examples/echo.c — a TCP echo server, one goroutine per
// connection, each reading into a 4 KiB buffer and writing back what it
// read until the client closes.  bench/netload.c loads both.
//
//	echo [port [host]]
package main

import (
	"log"
	"net"
	"os"
	"time"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func main() {
	port, host := "8000", ""
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	if len(os.Args) > 2 {
		host = os.Args[2]
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			// Out of descriptors or memory, or a client gone
			// before it was taken: wait, as net/http does.
			log.Print(err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go echo(c)
	}
}
