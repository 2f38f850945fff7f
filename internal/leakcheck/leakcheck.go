// Package leakcheck finds what must not be in a Temporal history: a
// subscriber secret in any of the forms it could take, or any other text,
// in any field of any event (payloads, failure messages, summaries, search
// attributes). Tests use it on histories fetched from a server and on the
// recorded ones.
package leakcheck

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Needle is one byte string to look for, and how to name it in a report
// without printing it.
type Needle struct {
	Name  string
	Bytes []byte
}

// SecretForms returns the forms a "whsec_" secret could leak in: whole, its
// base64 key (standard, unpadded and URL-safe), the raw key bytes and their
// hex. name labels them in reports.
func SecretForms(name, secret string) []Needle {
	needles := []Needle{{Name: name, Bytes: []byte(secret)}}
	b64 := strings.TrimPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return append(needles, Needle{Name: name + " (after whsec_)", Bytes: []byte(b64)})
	}
	return append(needles,
		Needle{Name: name + " (base64 key)", Bytes: []byte(b64)},
		Needle{Name: name + " (unpadded base64 key)", Bytes: []byte(base64.RawStdEncoding.EncodeToString(key))},
		Needle{Name: name + " (URL-safe base64 key)", Bytes: []byte(base64.RawURLEncoding.EncodeToString(key))},
		Needle{Name: name + " (raw key)", Bytes: key},
		Needle{Name: name + " (hex key)", Bytes: []byte(hex.EncodeToString(key))},
	)
}

// Find reports every event of h whose serialized form holds a needle, as
// "event 7 (EVENT_TYPE_MARKER_RECORDED) holds secret 3 (base64 key)". The
// protobuf wire form keeps strings and bytes as they are, so a needle shows
// whether it sits in a message, a summary or a payload's data.
func Find(h *historypb.History, needles []Needle) ([]string, error) {
	var found []string
	for _, ev := range h.GetEvents() {
		raw, err := proto.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("marshal event %d: %w", ev.GetEventId(), err)
		}
		for _, n := range needles {
			if len(n.Bytes) > 0 && bytes.Contains(raw, n.Bytes) {
				found = append(found, fmt.Sprintf("event %d (%s) holds %s", ev.GetEventId(), ev.GetEventType(), n.Name))
			}
		}
	}
	return found, nil
}

// Payloads returns every payload in m, however deeply nested: inputs,
// results, marker details, failure details and encoded attributes, user
// metadata, search attributes.
func Payloads(m proto.Message) []*commonpb.Payload {
	var out []*commonpb.Payload
	var walk func(protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if p, ok := m.Interface().(*commonpb.Payload); ok {
			out = append(out, p)
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}
