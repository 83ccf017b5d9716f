/** DynamoDB Local in memory, for tests: it lives in `dev/` since `capstan dev --nodes` runs it too. */
export { startDynamoDbLocal, type DynamoDbLocal } from "../../dev/dynamodb-local";
