// A minimal broadcast hub on gorilla/websocket, the stand-in for Centrifugo in bench/ws.sh:
// every message a client sends is written to every other connected client. One read and one
// write goroutine per connection and a bounded send queue per client (a client whose queue is
// full is dropped, as gorilla's chat example does); a broadcast is framed once
// (PreparedMessage) and written to each client.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gohub . && ./gohub 127.0.0.1:PORT
//
// GET /stats answers {"connections":n,"heapBytes":b} after a forced GC (for the idle-connection
// memory check); every other path upgrades to a WebSocket.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	sendQueue  = 256 // as gorilla's chat example
	writeWait  = 10 * time.Second
	maxMessage = 64 * 1024
)

type client struct {
	conn *websocket.Conn
	send chan *websocket.PreparedMessage
}

type hub struct {
	mu      sync.RWMutex
	clients map[*client]struct{}
}

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.send)
	}
	h.mu.Unlock()
}

func (h *hub) broadcast(from *client, data []byte) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return
	}
	var slow []*client
	h.mu.RLock()
	for c := range h.clients {
		if c == from {
			continue
		}
		select {
		case c.send <- pm:
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.remove(c)
		c.conn.Close()
	}
}

func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	CheckOrigin:     func(r *http.Request) bool { return true },
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gohub HOST:PORT")
	}
	h := &hub{clients: make(map[*client]struct{})}
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"connections\":%d,\"heapBytes\":%d}", h.count(), m.HeapAlloc)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &client{conn: conn, send: make(chan *websocket.PreparedMessage, sendQueue)}
		h.add(c)
		go writePump(c)
		readPump(h, c)
	})
	log.Printf("gohub listening on %s", os.Args[1])
	log.Fatal(http.ListenAndServe(os.Args[1], nil))
}

func readPump(h *hub, c *client) {
	defer func() {
		h.remove(c)
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessage)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		h.broadcast(c, data)
	}
}

func writePump(c *client) {
	defer c.conn.Close()
	for pm := range c.send {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.conn.WritePreparedMessage(pm); err != nil {
			return
		}
	}
	c.conn.WriteMessage(websocket.CloseMessage, []byte{})
}
