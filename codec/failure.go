package codec

import (
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// NewFailureConverter returns the failure converter to use beside a data
// converter that encrypts: Temporal's default one with
// EncodeCommonAttributes, so that failure messages and stack traces (which
// may quote a receiver's answer or a URL) travel encrypted in the failure's
// encoded attributes, and "Encoded failure" is all the history shows.
//
// It also decodes a copy of each failure rather than the failure itself.
// The SDK's DefaultFailureConverter.FailureToError writes the decoded
// message back into the Failure it is given, and for a failed local
// activity (sdk-go v1.51.0) that Failure is the very one in the marker
// command not yet sent, so the message would reach the server in clear.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return copyingFailureConverter{inner: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})}
}

type copyingFailureConverter struct {
	inner converter.FailureConverter
}

func (c copyingFailureConverter) ErrorToFailure(err error) *failurepb.Failure {
	return c.inner.ErrorToFailure(err)
}

func (c copyingFailureConverter) FailureToError(f *failurepb.Failure) error {
	if f == nil {
		return c.inner.FailureToError(nil)
	}
	return c.inner.FailureToError(proto.Clone(f).(*failurepb.Failure))
}
