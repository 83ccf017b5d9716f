/** The S3 stand-in, for tests: it lives in `dev/` since `capstan dev --nodes` runs it too. */
export { startS3StandIn, type S3StandIn } from "../../dev/s3-stand-in";
