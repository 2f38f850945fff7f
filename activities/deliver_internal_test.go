package activities

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/store"
)

func TestClassifyNamesTheGuardAndLeavesTheURLOut(t *testing.T) {
	blocked := &url.Error{Op: "Post", URL: "http://hooks.example.test/in?token=s3cr3t", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: &netguard.BlockedError{Addr: netip.MustParseAddr("169.254.169.254"), Reason: "the cloud metadata address"},
	}}
	kind, msg := sendFailure(context.Background(), blocked)
	require.Equal(t, "refused by the outbound guard: 169.254.169.254 is the cloud metadata address; nothing was sent", msg)
	require.Equal(t, delivery.KindRefused, kind)

	refused := &url.Error{Op: "Post", URL: "http://hooks.example.test/in?token=s3cr3t", Err: errors.New("connection refused")}
	kind, msg = sendFailure(context.Background(), refused)
	require.Equal(t, "connection refused", msg)
	require.Equal(t, delivery.KindConnectionFailed, kind)

	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	kind, msg = sendFailure(ctx, refused)
	require.Equal(t, "timed out waiting for the receiver", msg)
	require.Equal(t, delivery.KindTimedOut, kind)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	kind, msg = sendFailure(ctx, refused)
	require.Equal(t, "cancelled while sending", msg)
	require.Equal(t, delivery.KindCancelled, kind)
}

func TestRedactSecretsRemovesBothSecretsInEveryForm(t *testing.T) {
	sub := store.Subscription{ApplicationID: store.DefaultApplication,
		Secret:         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		PreviousSecret: "whsec_3q2+7wECAwQFBgcICQoLDA0ODxAREhMU",
	}
	got := redactSecrets("new whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, key MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, old 3q2+7wECAwQFBgcICQoLDA0ODxAREhMU", sub)
	require.Equal(t, "new [redacted], key [redacted], old [redacted]", got)
	require.Equal(t, "plain answer", redactSecrets("plain answer", sub))
}
