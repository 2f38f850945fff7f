package receiver_test

// Our verifier, our signer (package signing) and the Standard Webhooks
// reference Go library must agree, on the specification's vector and on
// random inputs, so that a subscriber can use any of them.

import (
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/receiver"
	"github.com/hookflow/hookflow/signing"
)

// The vector of the Standard Webhooks specification's reference tests.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func headersOf(id string, ts int64, signature string) http.Header {
	h := http.Header{}
	h.Set(receiver.HeaderID, id)
	h.Set(receiver.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(receiver.HeaderSignature, signature)
	return h
}

// receiverAt returns a receiver for secrets whose clock stands at ts.
func receiverAt(t *testing.T, ts time.Time, secrets ...string) *receiver.Receiver {
	t.Helper()
	rcv, err := receiver.NewWithOptions(receiver.Options{Secrets: secrets, Now: func() time.Time { return ts }})
	require.NoError(t, err)
	return rcv
}

func TestSpecificationVector(t *testing.T) {
	at := time.Unix(vectorTimestamp, 0)
	rcv := receiverAt(t, at, vectorSecret)

	require.NoError(t, rcv.Verify(headersOf(vectorID, vectorTimestamp, vectorSignature), []byte(vectorBody)))
	require.ErrorIs(t, rcv.Verify(headersOf(vectorID, vectorTimestamp, vectorSignature), []byte(`{"test": 2432232315}`)),
		receiver.ErrNoMatchingSignature)
	require.ErrorIs(t, rcv.Verify(headersOf(vectorID, vectorTimestamp+1, vectorSignature), []byte(vectorBody)),
		receiver.ErrNoMatchingSignature)

	// Both signers produce the vector too, so the checks below compare like with like.
	ours, err := signing.Sign([]string{vectorSecret}, vectorID, at, []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, ours)
	wh, err := standardwebhooks.NewWebhook(vectorSecret)
	require.NoError(t, err)
	theirs, err := wh.Sign(vectorID, at, []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, theirs)
}

func TestWebhookSignedByTheStandardWebhooksLibraryIsDelivered(t *testing.T) {
	secret := newSecret(t)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	now := time.Now()
	body := eventBody("evt_1", "user.registered", `{"email":"ada@example.com"}`)
	sig, err := wh.Sign("evt_1", now, body)
	require.NoError(t, err)

	// The real clock on both sides, as in production.
	rcv, err := receiver.NewWithOptions(receiver.Options{Secrets: []string{secret}})
	require.NoError(t, err)
	var got recorder
	rcv.On("user.registered", got.handle)
	req := webhook{ID: "evt_1", Timestamp: now, Body: body, Signature: sig}.request()
	rec := serve(rcv, req)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, 1, got.count())
}

func TestWebhookSignedByHookflowVerifiesInBothLibraries(t *testing.T) {
	oldSecret, newerSecret := newSecret(t), newSecret(t)
	now := time.Now()
	body := eventBody("evt_1", "user.registered", `{}`)
	sig, err := signing.Sign([]string{newerSecret, oldSecret}, "evt_1", now, body)
	require.NoError(t, err)
	headers := headersOf("evt_1", now.Unix(), sig)

	for _, secret := range []string{oldSecret, newerSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, headers))

		rcv, err := receiver.New(secret)
		require.NoError(t, err)
		require.NoError(t, rcv.Verify(headers, body))
	}

	tampered := append([]byte{}, body...)
	tampered[len(tampered)-2] = ' '
	wh, err := standardwebhooks.NewWebhook(oldSecret)
	require.NoError(t, err)
	require.Error(t, wh.Verify(tampered, headers))
	rcv, err := receiver.New(oldSecret)
	require.NoError(t, err)
	require.ErrorIs(t, rcv.Verify(headers, tampered), receiver.ErrNoMatchingSignature)
}

// TestRandomInputsAgreeBothWays signs random messages with each signer and
// checks that both verifiers accept them, and refuse them once one bit of the
// body, the id or the timestamp changes. The seed is fixed so that a failure
// repeats.
func TestRandomInputsAgreeBothWays(t *testing.T) {
	const cases = 500
	rng := rand.New(rand.NewPCG(2026, 11))
	const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-"

	for i := range cases {
		key := make([]byte, 24+rng.IntN(41))
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
		id := make([]byte, 1+rng.IntN(128))
		for j := range id {
			id[j] = idChars[rng.IntN(len(idChars))]
		}
		body := make([]byte, rng.IntN(2048))
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		ts := time.Unix(rng.Int64N(1<<33), 0)

		theirs, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		ours := receiverAt(t, ts, secret)

		theirSig, err := theirs.Sign(string(id), ts, body)
		require.NoError(t, err)
		ourSig, err := signing.Sign([]string{secret}, string(id), ts, body)
		require.NoError(t, err)
		require.Equal(t, theirSig, ourSig, "case %d: the signers differ", i)

		for _, sig := range []string{theirSig, ourSig} {
			headers := headersOf(string(id), ts.Unix(), sig)
			// Their library checks the timestamp against the real clock only.
			require.NoError(t, theirs.VerifyIgnoringTimestamp(body, headers), "case %d", i)
			require.NoError(t, ours.Verify(headers, body), "case %d", i)

			if len(body) > 0 {
				flipped := append([]byte{}, body...)
				flipped[rng.IntN(len(flipped))] ^= 1 << rng.IntN(8)
				require.Error(t, theirs.VerifyIgnoringTimestamp(flipped, headers), "case %d", i)
				require.ErrorIs(t, ours.Verify(headers, flipped), receiver.ErrNoMatchingSignature, "case %d", i)
			}
			otherID := headersOf(string(id)+"x", ts.Unix(), sig)
			require.Error(t, theirs.VerifyIgnoringTimestamp(body, otherID), "case %d", i)
			require.ErrorIs(t, ours.Verify(otherID, body), receiver.ErrNoMatchingSignature, "case %d", i)
			otherTS := headersOf(string(id), ts.Unix()+1, sig)
			require.Error(t, theirs.VerifyIgnoringTimestamp(body, otherTS), "case %d", i)
			require.ErrorIs(t, ours.Verify(otherTS, body), receiver.ErrNoMatchingSignature, "case %d", i)
		}
	}
}

// The receiver cannot import package signing, so it decodes secrets itself;
// it must accept exactly the secrets Hookflow's API hands out or takes.
func TestSecretsAcceptedLikeTheSigningPackage(t *testing.T) {
	key := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	secrets := []string{
		newSecret(t), vectorSecret, strings.TrimPrefix(vectorSecret, "whsec_"),
		"whsec_" + key(23), "whsec_" + key(24), "whsec_" + key(64), "whsec_" + key(65),
		"whsec_" + strings.TrimRight(key(32), "="), "whsec_" + key(33)[:len(key(33))-1],
		"whsec_", "", "whsec_not base64!", "whsec_" + base64.URLEncoding.EncodeToString([]byte("\xfb\xff\xfe0123456789abcdefghijklmn")),
	}
	for _, secret := range secrets {
		_, signErr := signing.DecodeSecret(secret)
		_, rcvErr := receiver.New(secret)
		require.Equal(t, signErr == nil, rcvErr == nil, "secret %q: signing says %v, receiver says %v", secret, signErr, rcvErr)
	}
}
