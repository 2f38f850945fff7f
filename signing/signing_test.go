package signing_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/signing"
)

// The vector from the Standard Webhooks specification's reference tests.
func TestSignMatchesSpecificationVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	got, err := signing.Sign([]string{secret}, id, time.Unix(1614265330, 0), []byte(body))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestStandardWebhooksLibraryVerifiesEverySecretOfARotation(t *testing.T) {
	oldSecret, err := signing.NewSecret()
	require.NoError(t, err)
	newSecret, err := signing.NewSecret()
	require.NoError(t, err)
	now := time.Now()
	body := []byte(`{"id":"evt_1","type":"order.created","data":{}}`)
	sig, err := signing.Sign([]string{newSecret, oldSecret}, "evt_1", now, body)
	require.NoError(t, err)
	require.Len(t, strings.Fields(sig), 2)

	headers := http.Header{}
	headers.Set(signing.HeaderID, "evt_1")
	headers.Set(signing.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	headers.Set(signing.HeaderSignature, sig)
	for _, secret := range []string{oldSecret, newSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, headers))
	}
	stranger, err := signing.NewSecret()
	require.NoError(t, err)
	wh, err := standardwebhooks.NewWebhook(stranger)
	require.NoError(t, err)
	require.Error(t, wh.Verify(body, headers))
}

func TestDecodeSecretRefusesBadSecrets(t *testing.T) {
	for _, s := range []string{"whsec_not base64!", "whsec_c2hvcnQ=", ""} {
		_, err := signing.DecodeSecret(s)
		require.Error(t, err, s)
	}
}
