// The stream identity and file order tests: the AWS documentation's example key.
rule aws_example_key { strings: $k = "AKIAIOSFODNN7EXAMPLE" condition: $k }
