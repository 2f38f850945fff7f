package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/codec"
)

func TestFailureConverterKeepsMessagesEncryptedAndItsInputUntouched(t *testing.T) {
	c, err := codec.New("k1:" + strings.Repeat("A", 43) + "=")
	require.NoError(t, err)
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
	fc := codec.NewFailureConverter(dc)

	const msg = "attempt 1 to https://hooks.example.test/private-path: HTTP 500"
	f := fc.ErrorToFailure(temporal.NewApplicationError(msg, "AttemptFailed", "details"))
	require.Equal(t, "Encoded failure", f.GetMessage())
	require.NotContains(t, f.String(), "private-path", "the message travels only encrypted")
	require.Equal(t, codec.MetadataEncodingEncrypted, string(f.GetEncodedAttributes().GetMetadata()[converter.MetadataEncoding]))

	back := fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(back, &appErr))
	require.Equal(t, msg, appErr.Message())
	require.Equal(t, "AttemptFailed", appErr.Type())
	require.Equal(t, "Encoded failure", f.GetMessage(), "decoding must not write the message back into the failure")

	require.NoError(t, fc.FailureToError(nil))
}
