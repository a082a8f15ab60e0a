-- renew: extends this instance's lease on the bucket.
renew()
return {1}
