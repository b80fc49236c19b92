package tencentcloud

import "slices"

// The tag service (2018-08-13) as tencent-component-toolkit uses it for
// function tags: tags exist account-wide (CreateTag, DescribeTags) and are
// attached to resources named by service, prefix, region and id.

var tagActions = map[string]apiHandler{
	"DescribeResourceTagsByResourceIds": tagDescribeResourceTags,
	"DescribeTags":                      tagDescribeTags,
	"CreateTag":                         tagCreateTag,
	"AttachResourcesTag":                tagAttach,
	"DetachResourcesTag":                tagDetach,
}

func tagResource(p map[string]any, id string) string {
	return pstr(p, "ServiceType") + ":" + pstr(p, "ResourceRegion") + ":" + pstr(p, "ResourcePrefix") + "/" + id
}

func resourceIDs(p map[string]any) ([]string, *apiError) {
	var ids []string
	for _, x := range plist(p, "ResourceIds") {
		if s, ok := x.(string); ok && s != "" {
			ids = append(ids, s)
		}
	}
	if len(ids) == 0 || pstr(p, "ServiceType") == "" || pstr(p, "ResourcePrefix") == "" {
		return nil, apiErr("MissingParameter", "ServiceType, ResourcePrefix and ResourceIds are required")
	}
	return ids, nil
}

func tagDescribeResourceTags(s *Server, r *apiRequest) (map[string]any, *apiError) {
	ids, e := resourceIDs(r.params)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range ids {
		tags := s.resourceTags[tagResource(r.params, id)]
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, map[string]any{"ResourceId": id, "TagKey": k, "TagValue": tags[k]})
		}
	}
	return map[string]any{"Tags": out, "TotalCount": len(out), "Offset": 0, "Limit": 100}, nil
}

func tagDescribeTags(s *Server, r *apiRequest) (map[string]any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	key, value := pstr(r.params, "TagKey"), pstr(r.params, "TagValue")
	for _, t := range s.tags {
		if (key == "" || t.Key == key) && (value == "" || t.Value == value) {
			out = append(out, map[string]any{"TagKey": t.Key, "TagValue": t.Value})
		}
	}
	return map[string]any{"Tags": out, "TotalCount": len(out), "Offset": 0, "Limit": 15}, nil
}

func tagCreateTag(s *Server, r *apiRequest) (map[string]any, *apiError) {
	t := EnvVar{Key: pstr(r.params, "TagKey"), Value: pstr(r.params, "TagValue")}
	if t.Key == "" {
		return nil, apiErr("MissingParameter", "TagKey is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.tags, t) {
		return nil, apiErr("ResourceInUse.TagDuplicate", "tag %s:%s exists", t.Key, t.Value)
	}
	s.tags = append(s.tags, t)
	return nil, nil
}

func tagAttach(s *Server, r *apiRequest) (map[string]any, *apiError) {
	ids, e := resourceIDs(r.params)
	if e != nil {
		return nil, e
	}
	t := EnvVar{Key: pstr(r.params, "TagKey"), Value: pstr(r.params, "TagValue")}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.tags, t) {
		return nil, apiErr("ResourceNotFound.TagNonExist", "tag %s:%s does not exist", t.Key, t.Value)
	}
	for _, id := range ids {
		k := tagResource(r.params, id)
		if s.resourceTags[k] == nil {
			s.resourceTags[k] = map[string]string{}
		}
		s.resourceTags[k][t.Key] = t.Value
	}
	return nil, nil
}

func tagDetach(s *Server, r *apiRequest) (map[string]any, *apiError) {
	ids, e := resourceIDs(r.params)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.resourceTags[tagResource(r.params, id)], pstr(r.params, "TagKey"))
	}
	return nil, nil
}
