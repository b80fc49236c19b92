package awsbackend

// EndpointURLForTest is the SSM endpoint a backend without overrides calls
// in region.
func EndpointURLForTest(region string) string {
	b := &Backend{getenv: func(string) string { return "" }}
	return b.endpointURL(svcSSM, region)
}
