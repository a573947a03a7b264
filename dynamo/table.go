package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableWait bounds how long EnsureTable waits for a table to become ACTIVE.
const tableWait = 5 * time.Minute

// EnsureTable creates the table if it does not exist (partition key "name"
// of type S, on-demand capacity) and waits until it is ACTIVE. It is
// idempotent and safe to call from several processes at once. A table that
// exists with another key schema is an error wrapping ErrTableSchema.
func (s *Store) EnsureTable(ctx context.Context) error {
	desc, err := s.describe(ctx)
	if err != nil {
		return err
	}
	if desc == nil {
		if err := s.createTable(ctx); err != nil {
			return err
		}
	} else if err := checkSchema(desc); err != nil {
		return fmt.Errorf("%w: %q %v", ErrTableSchema, s.table, err)
	}
	if desc != nil && desc.TableStatus == types.TableStatusActive {
		return nil
	}
	return s.waitActive(ctx)
}

// describe returns the table's description, nil when it does not exist.
func (s *Store) describe(ctx context.Context) (*types.TableDescription, error) {
	out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.table})
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: describing table %q: %w", s.table, err)
	}
	return out.Table, nil
}

func (s *Store) createTable(ctx context.Context) error {
	_, err := s.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &s.table,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: strPtr(attrKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: strPtr(attrKey), KeyType: types.KeyTypeHash},
		},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		// Created meanwhile by another process: check what it made.
		desc, err := s.describe(ctx)
		if err != nil {
			return err
		}
		if desc != nil {
			if err := checkSchema(desc); err != nil {
				return fmt.Errorf("%w: %q %v", ErrTableSchema, s.table, err)
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: creating table %q: %w", s.table, err)
	}
	return nil
}

func (s *Store) waitActive(ctx context.Context) error {
	w := dynamodb.NewTableExistsWaiter(s.client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 500*time.Millisecond, 5*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &s.table}, tableWait); err != nil {
		return fmt.Errorf("dynamo: waiting for table %q to become ACTIVE: %w", s.table, err)
	}
	return nil
}

// checkSchema accepts exactly one key, the partition key "name" of type S.
func checkSchema(desc *types.TableDescription) error {
	attrTypes := make(map[string]types.ScalarAttributeType)
	for _, a := range desc.AttributeDefinitions {
		attrTypes[deref(a.AttributeName)] = a.AttributeType
	}
	var keys []string
	for _, k := range desc.KeySchema {
		keys = append(keys, fmt.Sprintf("%s %s (%s)", deref(k.AttributeName), k.KeyType, attrTypes[deref(k.AttributeName)]))
	}
	ks := desc.KeySchema
	if len(ks) == 1 && deref(ks[0].AttributeName) == attrKey && ks[0].KeyType == types.KeyTypeHash &&
		attrTypes[attrKey] == types.ScalarAttributeTypeS {
		return nil
	}
	return fmt.Errorf("has key schema [%s]; seqshim needs the partition key %q (S) alone: use another table name",
		strings.Join(keys, ", "), attrKey)
}

func strPtr(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
